// Test double of a OneTrust banner: "Acceptera alla" inside an open shadow
// root. Consent goes into OptanonConsent and OptanonAlertBoxClosed; the
// marketing tag (Facebook's pixel) loads only after consent.
(function () {
  var domain = '.' + location.hostname.split('.').slice(-2).join('.');
  function marketing() {
    var s = document.createElement('script');
    s.src = 'https://connect.facebook.net/en_US/fbevents.js';
    document.head.appendChild(s);
  }
  if (/(?:^|; )OptanonConsent=[^;]*C0004%3A1/.test(document.cookie)) {
    marketing();
    return;
  }
  function show() {
    var host = document.createElement('div');
    host.id = 'onetrust-consent-sdk';
    document.body.appendChild(host);
    var root = host.attachShadow({ mode: 'open' });
    root.innerHTML = '<div role="dialog" aria-label="Cookies"><p>Vi använder cookies.</p>' +
      '<button id="onetrust-reject-all-handler">Avvisa alla</button> ' +
      '<button id="onetrust-pc-btn-handler">Inställningar</button> ' +
      '<button id="onetrust-accept-btn-handler">Acceptera alla</button></div>';
    root.getElementById('onetrust-accept-btn-handler').addEventListener('click', function () {
      var year = 31536000;
      document.cookie = 'OptanonConsent=groups%3DC0001%3A1%2CC0002%3A1%2CC0004%3A1; max-age=' + year + '; domain=' + domain + '; path=/; SameSite=Lax';
      document.cookie = 'OptanonAlertBoxClosed=' + new Date().toISOString() + '; max-age=' + year + '; domain=' + domain + '; path=/; SameSite=Lax';
      host.remove();
      marketing();
    });
  }
  if (document.body) show(); else document.addEventListener('DOMContentLoaded', show);
})();

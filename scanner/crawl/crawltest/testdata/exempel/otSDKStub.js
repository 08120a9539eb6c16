// Test double of a OneTrust banner: "Acceptera alla" inside an open shadow
// root, and the OneTrust.UpdateConsent API that grants groups one by one
// (C0002 performance, C0004 targeting). Consent goes into OptanonConsent
// and OptanonAlertBoxClosed; window.OnetrustActiveGroups lists the granted
// groups; the marketing tag (Facebook's pixel) loads only once C0004 is
// granted.
(function () {
  var domain = '.' + location.hostname.split('.').slice(-2).join('.');
  var year = 31536000;
  var host = null;
  function groups() {
    var m = /(?:^|; )OptanonConsent=([^;]*)/.exec(document.cookie);
    return m ? decodeURIComponent(m[1]).replace(/^groups=/, '').split(',') : ['C0001:1'];
  }
  function active(list) {
    return ',' + list.filter(function (g) { return /:1$/.test(g); }).map(function (g) { return g.split(':')[0]; }).join(',') + ',';
  }
  function marketing() {
    if (document.querySelector('script[src*="fbevents.js"]')) return;
    var s = document.createElement('script');
    s.src = 'https://connect.facebook.net/en_US/fbevents.js';
    document.head.appendChild(s);
  }
  function save(list) {
    document.cookie = 'OptanonConsent=' + encodeURIComponent('groups=' + list.join(',')) + '; max-age=' + year + '; domain=' + domain + '; path=/; SameSite=Lax';
    document.cookie = 'OptanonAlertBoxClosed=' + new Date().toISOString() + '; max-age=' + year + '; domain=' + domain + '; path=/; SameSite=Lax';
    window.OnetrustActiveGroups = active(list);
    if (host) host.remove();
    if (list.indexOf('C0004:1') >= 0) marketing();
  }
  window.OnetrustActiveGroups = active(groups());
  window.OneTrust = {
    UpdateConsent: function (type, value) {
      if (type !== 'Category') return;
      var list = groups();
      value.split(',').forEach(function (gv) {
        var g = gv.split(':')[0];
        list = list.filter(function (x) { return x.split(':')[0] !== g; });
        list.push(gv);
      });
      save(list);
    },
  };
  if (/(?:^|; )OptanonAlertBoxClosed=/.test(document.cookie)) {
    if (groups().indexOf('C0004:1') >= 0) marketing();
    return;
  }
  function show() {
    host = document.createElement('div');
    host.id = 'onetrust-consent-sdk';
    document.body.appendChild(host);
    var root = host.attachShadow({ mode: 'open' });
    root.innerHTML = '<div role="dialog" aria-label="Cookies"><p>Vi använder cookies.</p>' +
      '<button id="onetrust-reject-all-handler">Avvisa alla</button> ' +
      '<button id="onetrust-pc-btn-handler">Inställningar</button> ' +
      '<button id="onetrust-accept-btn-handler">Acceptera alla</button></div>';
    root.getElementById('onetrust-accept-btn-handler').addEventListener('click', function () {
      save(['C0001:1', 'C0002:1', 'C0004:1']);
    });
  }
  if (document.body) show(); else document.addEventListener('DOMContentLoaded', show);
})();

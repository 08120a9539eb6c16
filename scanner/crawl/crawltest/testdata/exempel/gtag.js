// Test double of Google's gtag.js: sets the Google Analytics cookies on the
// site's registrable domain for two years (Chromium keeps 400 days) and sends
// a page view.
(function () {
  var id = new URL(document.currentScript.src).searchParams.get('id') || 'G-TEST123';
  var domain = '.' + location.hostname.split('.').slice(-2).join('.');
  var twoYears = 63072000;
  var now = Math.floor(Date.now() / 1000);
  if (!/(?:^|; )_ga=/.test(document.cookie)) {
    document.cookie = '_ga=GA1.1.' + Math.floor(Math.random() * 1e9) + '.' + now + '; max-age=' + twoYears + '; domain=' + domain + '; path=/; SameSite=Lax';
  }
  document.cookie = '_ga_' + id.replace(/^G-/, '') + '=GS1.1.' + now + '.1.0.' + now + '; max-age=' + twoYears + '; domain=' + domain + '; path=/; SameSite=Lax';
  new Image().src = 'https://www.google-analytics.com/g/collect?v=2&tid=' + id + '&en=page_view';
})();

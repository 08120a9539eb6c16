// Test double of a Google Tag Manager container with a Google Ads
// conversion linker: the _gcl_au cookie, 90 days.
(function () {
  var domain = '.' + location.hostname.split('.').slice(-2).join('.');
  document.cookie = '_gcl_au=1.1.' + Math.floor(Math.random() * 1e9) + '.' + Math.floor(Date.now() / 1000) + '; max-age=7776000; domain=' + domain + '; path=/; SameSite=Lax';
})();

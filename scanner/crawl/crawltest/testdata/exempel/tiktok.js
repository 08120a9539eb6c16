// Test double of TikTok's pixel: the _ttp cookie, 13 months.
(function () {
  var domain = '.' + location.hostname.split('.').slice(-2).join('.');
  document.cookie = '_ttp=2abcDEF' + Math.floor(Math.random() * 1e9) + '; max-age=34164000; domain=' + domain + '; path=/; SameSite=Lax';
})();

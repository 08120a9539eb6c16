// Test double of Facebook's pixel: the _fbp cookie (90 days) on the site's
// domain and a page-view request to www.facebook.com.
(function () {
  var domain = '.' + location.hostname.split('.').slice(-2).join('.');
  if (!/(?:^|; )_fbp=/.test(document.cookie)) {
    document.cookie = '_fbp=fb.1.' + Date.now() + '.' + Math.floor(Math.random() * 1e9) + '; max-age=7776000; domain=' + domain + '; path=/; SameSite=Lax';
  }
  new Image().src = 'https://www.facebook.com/tr?id=1234567890&ev=PageView';
})();

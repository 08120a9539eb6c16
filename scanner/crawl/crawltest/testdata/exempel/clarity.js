// Test double of Microsoft Clarity: the user cookie (one year) and the
// session cookie (one day).
(function () {
  var domain = '.' + location.hostname.split('.').slice(-2).join('.');
  document.cookie = '_clck=1abc2de%7C2%7Cfq1%7C0; max-age=31536000; domain=' + domain + '; path=/; SameSite=Lax';
  document.cookie = '_clsk=xyz987%7C' + Date.now() + '%7C1; max-age=86400; domain=' + domain + '; path=/; SameSite=Lax';
})();

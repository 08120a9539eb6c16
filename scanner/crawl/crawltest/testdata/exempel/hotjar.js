// Test double of Hotjar's tracking code: the user cookie (one year) through
// document.cookie, the session cookie (30 minutes) through the Cookie Store
// API, and a recording marker in sessionStorage.
(function () {
  var domain = '.' + location.hostname.split('.').slice(-2).join('.');
  var site = 3712345;
  if (!/(?:^|; )_hjSessionUser_/.test(document.cookie)) {
    document.cookie = '_hjSessionUser_' + site + '=eyJpZCI6IjEyMyJ9; max-age=31536000; domain=' + domain + '; path=/; SameSite=Lax';
  }
  if (window.cookieStore) {
    cookieStore.set({ name: '_hjSession_' + site, value: 'eyJzIjoxfQ', domain: location.hostname.split('.').slice(-2).join('.'), path: '/', expires: Date.now() + 30 * 60 * 1000 });
  }
  sessionStorage.setItem('_hjRecordingLastActivity', String(Date.now()));
})();

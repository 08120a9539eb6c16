// Test double of YouTube's player: a preference cookie written by script in
// the cross-site iframe, and the remote-device id in the iframe's own
// localStorage.
(function () {
  document.cookie = 'PREF=f6=40000000&tz=Europe.Stockholm; max-age=34560000; domain=.youtube.com; path=/; SameSite=None; Secure';
  localStorage.setItem('yt-remote-device-id', JSON.stringify({ data: 'dev-' + Math.floor(Math.random() * 1e9), expiration: Date.now() + 31536000000 }));
})();
// The player's metadata database, in the iframe's own IndexedDB.
indexedDB.open('YtIdbMeta', 1);

// document.js returns the content type and the source text of the loaded
// document, read again with a same-origin fetch of its own URL: Chromium
// shows an XML file (a sitemap) through its XML viewer and a text file (a
// robots.txt) wrapped in HTML, so the DOM is not the source. The text is cut
// at __MAX__ characters.
(async () => {
  const res = await fetch(location.href, { credentials: 'include' });
  const text = await res.text();
  return { type: String(res.headers.get('content-type') || document.contentType), text: text.slice(0, __MAX__) };
})()

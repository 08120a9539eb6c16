// links.js lists the distinct http and https targets of the document's links
// (a and area elements, resolved against the base URL, fragments removed,
// download links left out), at most __MAX__ of them, so a page with ten
// thousand links costs one bounded call. It runs in an isolated world.
(() => {
  const seen = new Set();
  for (const a of document.querySelectorAll('a[href], area[href]')) {
    if (a.hasAttribute('download')) continue;
    let u;
    try { u = new URL(a.href); } catch (e) { continue; }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') continue;
    u.hash = '';
    seen.add(u.href);
    if (seen.size >= __MAX__) break;
  }
  return [...seen];
})()

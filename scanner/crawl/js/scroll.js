// scroll.js scrolls the page down one screen at a time, pausing briefly after
// each step so lazy-loaded tags and images fire, until the bottom or until
// __BUDGET__ milliseconds have passed, then back to the top. It resolves to
// the distance scrolled. It runs in an isolated world.
(async () => {
  const start = Date.now();
  const step = Math.max(200, window.innerHeight || 800);
  let y = 0;
  while (Date.now() - start < __BUDGET__) {
    const root = document.documentElement;
    const height = Math.max(root ? root.scrollHeight : 0, document.body ? document.body.scrollHeight : 0);
    if (y + step >= height) break;
    y += step;
    window.scrollTo(0, y);
    await new Promise((resolve) => setTimeout(resolve, 120));
  }
  window.scrollTo(0, 0);
  return y;
})()

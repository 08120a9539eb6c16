// storage.js reads what the frame's origin keeps in web storage: the
// localStorage and sessionStorage keys with the length of each value, and the
// names of its IndexedDB databases. It runs in an isolated world, so the page
// cannot tamper with the functions it uses, and it returns names and lengths,
// never values. At most 1000 keys per storage area are read.
(async () => {
  const out = { origin: '', local: [], session: [], idb: [] };
  try { out.origin = String(location.origin); } catch (e) { return out; }
  const read = (name) => {
    const keys = [];
    try {
      const s = globalThis[name];
      for (let i = 0; i < s.length && i < 1000; i++) {
        const k = s.key(i);
        keys.push([k, String(s.getItem(k) ?? '').length]);
      }
    } catch (e) {}
    return keys;
  };
  out.local = read('localStorage');
  out.session = read('sessionStorage');
  try {
    if (indexedDB.databases) {
      const dbs = await Promise.race([
        indexedDB.databases(),
        new Promise((resolve) => setTimeout(() => resolve([]), 1000)),
      ]);
      out.idb = dbs.map((d) => String(d.name));
    }
  } catch (e) {}
  return out;
})()

// hook.js is installed with Page.addScriptToEvaluateOnNewDocument in every
// document of a scanned tab and of its cross-site iframes, before any script
// of the page runs. It wraps the ways a script stores data on the visitor's
// device - the document.cookie setter, Storage.prototype.setItem,
// CookieStore.prototype.set and IDBFactory.prototype.open - and reports each
// write through the DevTools binding __BINDING__ as JSON: the kind, the name,
// the length of the value (never the value), the cookie attributes, the
// page's origin, and the URL of the script that made the write, read from the
// call stack. The writes themselves go through unchanged. The binding is
// removed from the global object so the page cannot call it.
(() => {
  const report = globalThis.__BINDING__;
  if (typeof report !== 'function') return;
  try { delete globalThis.__BINDING__; } catch (e) {}
  const ErrorCtor = Error;
  const stringify = JSON.stringify;
  const frameRE = /((?:https?|blob):\/\/[^\s()]+?):\d+:\d+\)?$/;

  // caller returns the URL of the nearest stack frame that has one: the
  // hook's own frames have none, so it is the script that did the write.
  const caller = () => {
    const limit = ErrorCtor.stackTraceLimit;
    ErrorCtor.stackTraceLimit = 30;
    const stack = String(new ErrorCtor().stack || '');
    ErrorCtor.stackTraceLimit = limit;
    for (const line of stack.split('\n').slice(1)) {
      const m = frameRE.exec(line.trim());
      if (m) return m[1];
    }
    return '';
  };
  const origin = () => { try { return String(location.origin); } catch (e) { return ''; } };
  const send = (o) => { o.u = caller(); o.o = origin(); report(stringify(o)); };

  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  if (cookie && cookie.set) {
    Object.defineProperty(Document.prototype, 'cookie', {
      configurable: true,
      enumerable: cookie.enumerable,
      get: cookie.get,
      set: function (v) {
        try {
          const s = String(v);
          const semi = s.indexOf(';');
          const pair = semi < 0 ? s : s.slice(0, semi);
          const eq = pair.indexOf('=');
          send({
            t: 'cookie',
            n: eq < 0 ? '' : pair.slice(0, eq).trim(),
            l: (eq < 0 ? pair : pair.slice(eq + 1)).trim().length,
            a: semi < 0 ? '' : s.slice(semi + 1),
          });
        } catch (e) {}
        return cookie.set.call(this, v);
      },
    });
  }

  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (k, v) {
    try {
      let kind = 'sessionStorage';
      try { if (this === globalThis.localStorage) kind = 'localStorage'; } catch (e) {}
      send({ t: kind, n: String(k), l: String(v).length });
    } catch (e) {}
    return setItem.apply(this, arguments);
  };

  if (globalThis.IDBFactory && IDBFactory.prototype.open) {
    const open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (name) {
      try { send({ t: 'indexedDB', n: String(name), l: 0 }); } catch (e) {}
      return open.apply(this, arguments);
    };
  }

  if (globalThis.CookieStore && CookieStore.prototype.set) {
    const csSet = CookieStore.prototype.set;
    CookieStore.prototype.set = function (a, b) {
      try {
        const o = a !== null && typeof a === 'object' ? a : { name: a, value: b };
        let attrs = '';
        if (o.domain) attrs += '; Domain=' + o.domain;
        if (o.path) attrs += '; Path=' + o.path;
        if (o.expires) attrs += '; Expires=' + new Date(o.expires).toUTCString();
        send({ t: 'cookie', n: String(o.name ?? ''), l: String(o.value ?? '').length, a: attrs });
      } catch (e) {}
      return csSet.apply(this, arguments);
    };
  }
})();

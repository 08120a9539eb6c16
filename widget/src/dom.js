// DOM helpers. Text is only ever added as text nodes (append of strings),
// never parsed as HTML; links are kept only when they are https or on the
// page's own origin.

// h creates an element: attributes from attrs (keys starting with "o" set
// handlers: "onclick", "onclose"; no attribute here starts with "o"; falsy
// values skip: no attribute here is ever meant to be "" or 0), then
// children (strings become text nodes; falsy ones are skipped; arrays are
// flattened).
export function h(tag, attrs, ...kids) {
  const e = document.createElement(tag)
  for (const k in attrs) {
    const v = attrs[k]
    if (k[0] == 'o') e[k] = v
    else if (v) e.setAttribute(k, v)
  }
  e.append(...kids.flat().filter(Boolean))
  return e
}

// safeURL returns u resolved against the page when it is https or on the
// page's own origin; otherwise (javascript:, data:, http elsewhere) null.
export function safeURL(u) {
  try {
    const r = new URL(u, location.href)
    if (r.protocol == 'https:' || r.origin == location.origin) return r.href
  } catch {}
  return null
}

// trapFocus keeps Tab and Shift+Tab inside box (a dialog in a shadow root):
// from its last focusable element Tab goes to the first, and back.
export function trapFocus(box, root) {
  box.onkeydown = (e) => {
    const f = [...box.querySelectorAll('button,input:enabled,a,summary')]
    if (e.shiftKey) f.reverse()
    if (e.key == 'Tab' && root.activeElement == f.at(-1)) {
      e.preventDefault()
      f[0].focus()
    }
  }
}

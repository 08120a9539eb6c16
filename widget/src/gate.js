// Blocking and activation of the page's non-necessary content:
//   <script type="text/plain" data-crumb-category="analytics" [src]>
//   <iframe data-crumb-src="…" data-crumb-category="marketing">
//   <img data-crumb-src="…" data-crumb-category="marketing"> (and any other
//   element with a src: video, audio, embed)
//   <link rel="stylesheet" data-crumb-href="…" data-crumb-category="…">
//   (stylesheets, web fonts; any element with an href)
//   <div data-crumb-category="marketing" data-crumb-placeholder="provider">
//   (a click-to-load container: social plug-in markup, a <video>; its
//   gated children carry their own data-crumb-* attributes)
// An element runs only when every category it names is granted. Scripts run
// one at a time in document order (each src script loaded before the next
// starts): the page's own at DOMContentLoaded, later ones as they are added
// (a MutationObserver). Blocked iframes and placeholder containers are
// covered by a click-to-load placeholder.
import { granted } from './consent.js'
import { placeholder } from './ui.js'
import { h } from './dom.js'

const SEL = 'script[type="text/plain"][data-crumb-category],[data-crumb-src],[data-crumb-href],[data-crumb-placeholder]'
const queued = new WeakSet()
const covers = new WeakMap()
let chain = Promise.resolve()
let started, stopped

export const ready = (fn) =>
  document.readyState == 'loading' ? document.addEventListener('DOMContentLoaded', fn) : fn()

function handle(el) {
  const d = el.dataset
  if (stopped || queued.has(el)) return
  const ids = d.crumbCategory?.match(/[^\s,]+/g) || []
  if (!ids.length || !ids.every(granted)) {
    if (el.matches('iframe,[data-crumb-placeholder]') && !covers.has(el)) covers.set(el, placeholder(el, ids))
    return
  }
  queued.add(el)
  if (el.tagName == 'SCRIPT') chain = chain.then(() => run(el))
  else {
    if (d.crumbSrc) el.src = d.crumbSrc
    if (d.crumbHref) el.href = d.crumbHref
    covers.get(el)?.()
  }
}

const scan = (root) => root.querySelectorAll(SEL).forEach(handle)

export function startGate() {
  ready(() => {
    started = 1
    scan(document)
    new MutationObserver((records) => {
      for (const r of records)
        for (const n of r.addedNodes)
          if (n.nodeType == 1) {
            if (n.matches(SEL)) handle(n)
            scan(n)
          }
    }).observe(document.documentElement, { childList: true, subtree: true })
  })
}

// recheck activates what a new decision has granted; recheck(true) instead
// stops all activation on this page, for good: it is about to reload (see
// changed in consent.js). Scripts already waiting their turn stay blocked too.
export const recheck = (stop) => (stopped ||= stop) || (started && scan(document))

// run replaces a blocked script with a live copy and resolves when it has
// run (inline) or loaded or failed (src).
function run(old) {
  return new Promise((done) => {
    if (stopped || !old.isConnected) return done()
    const s = h('script')
    for (const a of old.attributes) if (a.name != 'type') s.setAttribute(a.name, a.value)
    s.nonce = old.nonce
    if (old.src) s.onload = s.onerror = done
    else s.text = old.text
    old.replaceWith(s)
    if (!old.src) done()
  })
}

// The banner (first layer), the settings dialog (second layer), the cookie
// icon and the click-to-load placeholders. Everything lives in shadow roots
// styled by one constructed stylesheet, which a strict style-src allows (it
// only blocks <style> elements and style attributes); where constructable
// stylesheets are missing, a <style> element is used instead.
import css from './style.css'
import { cfg, cats, gpc, t, local, catName } from './config.js'
import { state, granted, acceptAll, rejectAll, save, allow, erase } from './consent.js'
import { impression, exportURL } from './api.js'
import { ready } from './gate.js'
import { h, safeURL, trapFocus } from './dom.js'
import {
  TITLE, BODY, WITHDRAW, CONTROLLER, PRIVACY_LINK, ACCEPT_ALL, REJECT_ALL, SETTINGS, SETTINGS_TITLE, SETTINGS_INTRO, SAVE, CLOSE,
  NECESSARY_LOCKED, COOKIES_SHOW, COL_NAME, COL_PROVIDER, COL_PURPOSE, COL_EXPIRY, COL_PARTY, CONSENT_ID, EXPORT,
  ERASE, ERASED, ERROR, GPC_NOTICE, PLACEHOLDER_TEXT, PLACEHOLDER_BUTTON, ICON_LABEL,
} from './texts.js'

const COOKIE = 'M21 12a9 9 0 1 1-9-9 4 4 0 0 0 4 5 4 4 0 0 0 5 4ZM8 9h0m0 6h0m5-3h0m2 4h0'
let sheet, root, banner, dialog, icon

const names = (ids) => ids.map(catName).join(', ')
const button = (key, onclick, cls, vars) => h('button', { class: cls, onclick }, t(key, vars))
// gpcNote names the GPC categories that are off: never one the visitor has
// since granted.
const gpcNote = (off = gpc.filter((id) => !granted(id))) => off.length && h('p', { class: 'n' }, t(GPC_NOTICE, { categories: names(off) }))

// both are Accept all and Reject all; src is where they are (the decision's
// source: banner or settings).
const both = (src) => [button(ACCEPT_ALL, () => acceptAll(src), 'a'), button(REJECT_ALL, () => rejectAll(src), 'r')]

function style(r) {
  if (!sheet) {
    // The theme's colours come as a :host rule (widget.Theme.css).
    sheet = css + cfg.css
    try {
      const s = new CSSStyleSheet()
      s.replaceSync(sheet)
      sheet = s
    } catch {}
  }
  if (typeof sheet == 'string') r.append(h('style', {}, sheet))
  else r.adoptedStyleSheets = [sheet]
}

// mount creates the host element once, as a child of <html> so that no
// opacity, visibility or transform the page puts on <body> can reach it:
// first when it opens with the banner, so the banner comes first in the tab
// order and to screen readers; last otherwise.
function mount(first) {
  if (root) return
  const host = h('crumb-consent')
  root = host.attachShadow({ mode: 'open' })
  style(root)
  document.documentElement[first ? 'prepend' : 'append'](host)
}

export function showBanner() {
  if (banner) return
  mount(1)
  const link = safeURL(cfg.privacy_policy_url)
  const settings = button(SETTINGS, () => openSettings(settings), 's')
  banner = h(
    'div',
    { class: 'b', role: 'dialog', 'aria-labelledby': 'ct', 'aria-describedby': 'cd' },
    // The text scrolls on small screens; the buttons always stay in view.
    h(
      'div',
      { class: 'bt' },
      h('h2', { id: 'ct' }, t(TITLE)),
      // The categories by name (R9) and how to withdraw (R10) come first,
      // the GPC notice and each category's line after them, so that a
      // phone shows both without scrolling the text.
      h('p', {}, h('strong', {}, names(cats.map((k) => k.id)))),
      h('p', { id: 'cd' }, t(BODY)),
      h('p', {}, t(WITHDRAW)),
      gpcNote(),
      h('ul', {}, cats.map((k) => h('li', {}, h('b', {}, catName(k.id)), ' ', local(k.description)))),
      h('p', { class: 'm' }, t(CONTROLLER), ' · ', link ? h('a', { href: link }, t(PRIVACY_LINK)) : t(PRIVACY_LINK)),
    ),
    h('div', { class: 'bs' }, both('banner'), settings),
  )
  root.append(banner)
  // An aggregate count of displays, unless the site turned it off (R1).
  cfg.no_impressions || impression()
}

export function showIcon() {
  mount()
  if (!icon) {
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg')
    const path = document.createElementNS(svg.namespaceURI, 'path')
    svg.setAttribute('viewBox', '0 0 24 24')
    path.setAttribute('d', COOKIE)
    svg.append(path)
    icon = h('button', { class: 'i', 'aria-label': t(ICON_LABEL), onclick: () => openSettings(icon) }, svg)
    root.append(icon)
  }
  icon.hidden = false
}

// refresh brings the UI in line with a new state.
export function refresh() {
  ready(() => {
    if (state().decided) {
      showIcon()
      // A choice made on the banner by keyboard leaves focus on the icon,
      // not on the page's start.
      if (banner?.contains(root.activeElement)) icon.focus()
      banner?.remove()
      banner = null
      dialog?.close()
    } else {
      if (icon) icon.hidden = true
      if (!dialog) showBanner()
    }
  })
}

function cookieTable(k) {
  return h(
    'details',
    {},
    h('summary', {}, t(COOKIES_SHOW, { n: k.cookies.length })),
    h(
      'div',
      { class: 'tw' },
      h(
        'table',
        {},
        h('tr', {}, [COL_NAME, COL_PROVIDER, COL_PURPOSE, COL_EXPIRY, COL_PARTY].map((x) => h('th', { scope: 'col' }, t(x)))),
        k.cookies.map((r) => h('tr', {}, [r.name, r.provider, local(r.purpose), local(r.expiry), r.pt && t(r.pt)].map((v) => h('td', {}, v)))),
      ),
    ),
  )
}

// idBox shows the visitor's consent id (R37) with export and erase.
function idBox(toggles) {
  const id = state().id
  const box =
    id &&
    h(
      'div',
      { class: 'id' },
      h('p', {}, t(CONSENT_ID), ' ', h('code', {}, id)),
      // The API answers with the JSON file; on the site's own origin it is
      // saved as a download, elsewhere it opens in a new tab.
      h('a', { class: 'ln', href: exportURL(id), download: 'consent.json', target: '_blank' }, t(EXPORT)),
      button(
        ERASE,
        async () => {
          const ok = await erase()
          box.replaceChildren(h('p', { role: 'status' }, t(ok ? ERASED : ERROR)))
          if (!ok) return
          for (const k of cats) toggles[k.id].checked = !!k.locked
        },
        'ln',
      ),
    )
  return box
}

// openSettings shows the second layer with the current state: every
// optional category off until something is decided (R14). Closing it
// (Escape, ×) saves nothing (R12); focus goes back to opener.
export function openSettings(opener) {
  if (dialog) return
  mount()
  const s = state()
  const toggles = {}
  const rows = cats.map((k) =>
    h(
      'section',
      { class: 'c' },
      h(
        'label',
        { class: 'ch' },
        h('span', {}, catName(k.id)),
        (toggles[k.id] = h('input', {
          type: 'checkbox',
          role: 'switch',
          checked: s.categories[k.id],
          disabled: k.locked,
          'aria-describedby': 'd-' + k.id,
        })),
      ),
      h('p', { id: 'd-' + k.id }, local(k.description)),
      k.locked && h('p', {}, t(NECESSARY_LOCKED)),
      k.cookies?.length && cookieTable(k),
    ),
  )
  const chosen = () => {
    const on = {}
    for (const id in toggles) on[id] = toggles[id].checked
    return on
  }
  dialog = h(
    'dialog',
    {
      class: 'd',
      'aria-labelledby': 'st',
      onclose() {
        dialog.remove()
        dialog = null
        if (!state().decided) showBanner()
        ;(opener?.isConnected ? opener : icon)?.focus()
      },
    },
    h('div', { class: 'hd' }, h('h2', { id: 'st' }, t(SETTINGS_TITLE)), h('button', { class: 'x', 'aria-label': t(CLOSE), onclick: () => dialog.close() }, '×')),
    h('div', { class: 'bd' }, h('p', {}, t(SETTINGS_INTRO)), gpcNote(), rows),
    // Erasing comes after the choices, in the Tab order too.
    h('div', { class: 'ft' }, both('settings'), button(SAVE, () => save(chosen(), 'settings'), 's'), idBox(toggles)),
  )
  trapFocus(dialog, root)
  root.append(dialog)
  dialog.showModal()
}

// placeholder covers a blocked iframe or placeholder container with a
// notice and a button that grants its categories (R44); it returns the
// function that uncovers it.
export function placeholder(el, ids) {
  const ph = h('crumb-embed')
  const r = ph.attachShadow({ mode: 'open' })
  style(r)
  ph.style.width = (el.offsetWidth || 300) + 'px'
  ph.style.height = (el.offsetHeight || 150) + 'px'
  // A container names its provider (data-crumb-placeholder="…"); an iframe
  // its host.
  let host = ''
  try {
    host = el.dataset.crumbPlaceholder || new URL(el.dataset.crumbSrc, location.href).hostname
  } catch {}
  const category = names(ids)
  r.append(h('div', { class: 'p' }, h('p', {}, t(PLACEHOLDER_TEXT, { host, category })), button(PLACEHOLDER_BUTTON, () => allow(ids), 'a', { category })))
  el.style.setProperty('display', 'none', 'important')
  el.before(ph)
  return () => {
    ph.remove()
    el.style.removeProperty('display')
  }
}

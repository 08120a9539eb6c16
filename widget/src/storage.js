// The widget's only storage: the crumb_consent cookie (see README, "the
// consent cookie") and, while a decision has not reached the API yet, the
// crumb_pending localStorage item. Plus deletion of what withdrawn
// categories stored.

import { cfg } from './config.js'
import { PARTY_THIRD } from './texts.js'

const NAME = 'crumb_consent'
export const PENDING = 'crumb_pending'
export const now = () => (Date.now() / 1e3) | 0

// readCookie parses "1.<id>.<revision>.<granted ids joined by + or ->.<unix
// seconds>[.g]"; null when absent or malformed. The ".g" marks a choice
// that granted a GPC category while the browser sent GPC: an explicit
// choice that the signal does not undo on later pages.
export function readCookie() {
  const m = document.cookie.match(/(?:^|; )crumb_consent=1\.([\w-]*)\.(\d+)\.([\w+-]+)\.(\d+)(\.g)?(;|$)/)
  if (!m) return null
  const on = {}
  for (const id of m[3].split('+')) on[id] = true
  return { id: m[1], rev: +m[2], on, ts: +m[4], g: !!m[5] }
}


// attrs are the consent cookie's attributes; the Domain only when this
// page's host is within it (a browser drops the cookie otherwise; with no
// cookie_domain, ".undefined" matches no host).
const attrs = () =>
  '; Path=/; SameSite=Lax' +
  (location.protocol == 'https:' ? '; Secure' : '') +
  (('.' + location.hostname).endsWith('.' + cfg.cookie_domain) ? '; Domain=' + cfg.cookie_domain : '')

// ons is a choice's granted category ids as the cookie holds them.
export const ons = (c) => Object.keys(c.on).filter((k) => c.on[k]).join('+') || '-'

// writeCookie stores choice c until its validity ends.
export function writeCookie(c) {
  document.cookie = `${NAME}=1.${c.id}.${c.rev}.${ons(c)}.${c.ts}${c.g ? '.g' : ''}; Max-Age=${c.ts + cfg.validity - now()}` + attrs()
}

export const clearCookie = () => expire(NAME)

// expire deletes cookie name on the host, on every domain it is within
// (the browser ignores a public suffix such as "com") and on every path
// from / down to the current page's, whichever it was set on.
function expire(name) {
  const h = location.hostname.split('.')
  const paths = ['/']
  let p = ''
  for (const s of location.pathname.split('/')) if (s) paths.push((p += '/' + s), p + '/')
  for (const d of ['', ...h.map((x, i) => '; Domain=' + h.slice(i).join('.'))])
    for (const q of paths) document.cookie = name + '=; Max-Age=0; Path=' + q + d
}

// wipe deletes the first-party items listed in the cookie tables of
// categories: cookies, and localStorage and sessionStorage keys (a row's
// kind names its storage, window.localStorage or window.sessionStorage;
// storage that throws, e.g. when the browser blocks it, is skipped); not
// third parties' (pt: the index of the party's text, texts.js). A "*"
// in a name matches any run of characters (the service marks every name
// with a "*" as a pattern). crumb's own two items are never deleted, though
// a pattern such as "*" matches them. IndexedDB rows (from a scan) delete
// nothing, as window.indexedDB has no keys: a database goes only once every
// connection the page's scripts hold to it closes, so those scripts must.
export function wipe(categories) {
  for (const cat of categories)
    for (const { name, kind = 'cookie', pt } of cat.cookies || [])
      if (pt != PARTY_THIRD) {
        // Every character but letters, digits and _ is escaped; \* is then .*
        const re = new RegExp('^' + name.replace(/\W/g, '\\$&').replaceAll('\\*', '.*') + '$')
        const hit = (keys) => keys.filter((k) => re.test(k) && k != NAME && k != PENDING)
        if (kind == 'cookie') hit(document.cookie.split('; ').map((c) => c.split('=')[0])).forEach(expire)
        else
          try {
            const s = window[kind]
            hit(Object.keys(s)).forEach((k) => s.removeItem(k))
          } catch {}
      }
}

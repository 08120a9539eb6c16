// The widget's only storage: the crumb_consent cookie (see README, "the
// consent cookie") and, while a decision has not reached the API yet, the
// crumb_pending localStorage item. Plus deletion of the cookies of withdrawn
// categories.

import { cfg } from './config.js'

const NAME = 'crumb_consent'
export const now = () => (Date.now() / 1e3) | 0

// readCookie parses "1.<id>.<revision>.<granted ids joined by + or ->.<unix
// seconds>"; null when absent or malformed.
export function readCookie() {
  const m = document.cookie.match(/(?:^|; )crumb_consent=1\.([\w-]*)\.(\d+)\.([\w+-]+)\.(\d+)(;|$)/)
  if (!m) return null
  const on = {}
  for (const id of m[3].split('+')) on[id] = true
  return { id: m[1], rev: +m[2], on, ts: +m[4] }
}


// attrs are the consent cookie's attributes; the Domain only when this
// page's host is within it (a browser drops the cookie otherwise; with no
// cookie_domain, ".undefined" matches no host).
const attrs = () =>
  '; Path=/; SameSite=Lax' +
  (location.protocol == 'https:' ? '; Secure' : '') +
  (('.' + location.hostname).endsWith('.' + cfg.cookie_domain) ? '; Domain=' + cfg.cookie_domain : '')

// writeCookie stores choice c until its validity ends.
export function writeCookie(c) {
  document.cookie = `${NAME}=1.${c.id}.${c.rev}.${Object.keys(c.on).filter((k) => c.on[k]).join('+') || '-'}.${c.ts}; Max-Age=${c.ts + cfg.validity - now()}` + attrs()
}

export function clearCookie() {
  document.cookie = NAME + '=; Max-Age=0' + attrs()
  expire(NAME)
}

// expire deletes cookie name on the host, on every parent domain and on
// every path from / down to the current page's, whichever it was set on.
function expire(name) {
  const h = location.hostname.split('.')
  const domains = ['']
  for (let i = 0; i < h.length - 1; i++) domains.push('; Domain=' + h.slice(i).join('.'))
  const paths = ['/']
  let p = ''
  for (const s of location.pathname.split('/')) if (s) paths.push((p += '/' + s), p + '/')
  for (const d of domains) for (const q of paths) document.cookie = name + '=; Max-Age=0; Path=' + q + d
}

// wipe deletes the first-party cookies listed in the cookie tables of
// categories; a "*" in a name matches any run of characters (the service
// marks every name with a "*" as a pattern).
export function wipe(categories) {
  const names = document.cookie.split('; ').map((c) => c.split('=')[0])
  for (const cat of categories)
    for (const row of cat.cookies || [])
      if ((row.kind || 'cookie') == 'cookie' && row.party != 'third') {
        const re = new RegExp('^' + row.name.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$')
        names.filter((n) => re.test(n)).forEach(expire)
      }
}

// The consent API client. Every decision is queued in the crumb_pending
// localStorage item (strictly necessary: it is the decision itself, kept
// only until the API has recorded it), then posted with keepalive so it
// survives a navigation. When the API is unreachable or busy (network error,
// 429, 5xx) the queue stays and the next page sends it again with the same
// event_id, which the API answers as a replay.
import { cfg, lang } from './config.js'
import { knownId, recorded } from './consent.js'
import { PENDING as KEY } from './storage.js'

let base, busy
let mem = []

// connect sets the API's base URL: the config's, else the origin crumb.js
// was loaded from (src).
export function connect(src) {
  base = (cfg.api || (src ? new URL(src).origin : '')) + '/v1/sites/' + encodeURIComponent(cfg.site)
}

// post sends body as JSON; credentials (default same-origin) says whether
// the page's cookies go with it.
const post = (p, body, credentials) =>
  fetch(base + p, { method: 'POST', keepalive: true, credentials, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || []
  } catch {
    return mem
  }
}

function keep(q) {
  mem = q
  try {
    q.length ? localStorage.setItem(KEY, JSON.stringify(q)) : localStorage.removeItem(KEY)
  } catch {}
}

// flush sends the queued decisions in order, one at a time.
export async function flush() {
  if (busy) return
  busy = 1
  try {
    for (let q; (q = load()).length; ) {
      const body = q[0]
      // A decision made before the API first answered learns the id now.
      body.consent_id ||= knownId()
      // Only the newest decision may set the consent cookie (same
      // origin): an older one sent late would undo a newer choice there.
      const r = await post('/consents', body, q[1] && 'omit').catch(() => 0)
      if (!r || r.status == 429 || r.status >= 500) return
      if (r.ok) recorded(await r.json().catch(() => 0))
      // Any other 4xx will never succeed: drop it, keep the rest.
      keep(load().filter((b) => b.event_id != body.event_id))
    }
  } finally {
    busy = 0
  }
}

export function record(body) {
  keep([...load(), body])
  flush()
}

export const forget = () => keep([])

// impression counts a display of the banner: no id, no cookie of the page.
export const impression = () => post('/impressions', { revision: cfg.revision, language: lang }, 'omit').catch(() => 0)

// exportURL is where the visitor's full history is downloaded as JSON.
export const exportURL = (id) => base + '/consents/' + encodeURIComponent(id) + '/export'

// eraseRecord deletes the visitor's records; it reports success.
export const eraseRecord = (id) =>
  fetch(base + '/consents/' + encodeURIComponent(id), { method: 'DELETE' }).then(
    (r) => r.ok,
    () => false,
  )

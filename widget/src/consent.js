// The visitor's choice, decisions, the window.crumb API and the
// crumb:consent event. A choice is valid while its revision is the site's
// and its validity has not run out; until then nothing non-necessary is
// granted (a missing or unknown state never grants anything, R3).
import { consentUpdate } from './gcm.js'
import { cfg, lang, cats, optional, gpc, configure } from './config.js'
import { readCookie, writeCookie, clearCookie, wipe, now, ons } from './storage.js'
import { connect, record, flush, eraseRecord, forget } from './api.js'
import { startGate, recheck, ready } from './gate.js'
import { showBanner, showIcon, openSettings, refresh } from './ui.js'

// stored is the cookie as read (it keeps the consent id across revisions);
// choice is the valid decision, or null.
let stored, choice, act
const listeners = []

// act is true while a trusted click is being dispatched, until the task
// ends (a key press on a button, Enter or Space, and a form's submission
// by Enter dispatch one): this listener captures it first, also for the
// banner's shadow DOM, where window.event is not set.
addEventListener('click', (e) => ((act = e.isTrusted), setTimeout(() => (act = 0))), 1)

export const granted = (id) => cats.some((k) => k.id == id && (k.locked || !!choice?.on[id]))

// state is what crumb.get() returns and crumb:consent carries.
export function state() {
  const categories = {}
  for (const k of cats) categories[k.id] = granted(k.id)
  return { decided: !!choice, id: stored?.id || null, categories, time: choice?.ts }
}

export const knownId = () => stored?.id

// recorded takes the API's answer to a decision: the visitor's consent id.
export function recorded(res) {
  if (!res.consent_id || !stored) return
  stored.id = res.consent_id
  // Leave a cookie the server has set (same origin) alone when it holds
  // this choice: Safari keeps server-set cookies for their full Max-Age,
  // script-set ones 7 days. The server marks a grant made under GPC only
  // when the request carried Sec-GPC: 1; without the header the mark is
  // written here. A cookie of an older decision recorded late (sent again
  // after the visitor chose anew, e.g. withdrew) must not outlive the
  // newer choice (R20).
  const c = readCookie()
  if (c?.id != stored.id || c.g != stored.g || ons(c) != ons(stored)) writeCookie(stored)
}

// decide records a decision: on maps optional category ids to true when
// granted. Refusing a category that was granted is recorded as a withdrawal
// (R21), also when other categories stay granted; the record's categories
// show what was withdrawn and what was kept. source is what made the
// decision (banner, settings, placeholder or script: the page's own script
// through window.crumb), recorded with it (R22). The GPC signal's own
// withdrawal (start) has none: no one acted, and it is recorded as gpc,
// what it is, without a source, and needs no reload: nothing has been
// activated on the page yet.
// A decision that grants a category not granted before needs the
// visitor's gesture (R12): it must be made while the browser dispatches
// the visitor's own (trusted) click, by mouse, touch or keyboard (act),
// as the banner's buttons and a page's click handler calling
// crumb.acceptAll() are. One made on scroll, from a timer (even seconds
// after a click, which navigator.userActivation would still count), after
// an await, or by a script clicking the banner's buttons itself is ignored
// with a warning. Refusals and withdrawals always go through.
function decide(on, action, source) {
  const before = state().categories
  const next = {}
  for (const id of optional) next[id] = !!on[id]
  if (!act && optional.some((id) => next[id] > before[id]))
    return console.warn('crumb: no user gesture')
  const off = (was) => cats.filter((k) => was(k.id) && next[k.id] == false)
  const withdrawn = source ? off((id) => before[id]) : []
  if (withdrawn.length) action = 'withdraw'
  // Clear what every refused category stored, also what an expired or
  // older-revision choice had let in (a no-op for one never granted).
  const wiped = off(() => 1)
  choice = stored = { id: stored?.id || '', rev: cfg.revision, on: next, ts: now(), g: gpc.some((id) => next[id]) }
  writeCookie(choice)
  const s = state()
  record({
    // 128 random bits as four numbers: up to 43 characters of [0-9_], and
    // fewer than 16 only if the four had 12 digits in all (odds below 1e-20).
    event_id: crypto.getRandomValues(new Uint32Array(4)).join('_'),
    action,
    categories: s.categories,
    revision: cfg.revision,
    banner: cfg.banner,
    language: lang,
    widget_version: __CRUMB_VERSION__,
    source,
  })
  changed(s, wiped, withdrawn.length)
}

// changed tells Google's tags, the page and the UI about a new state and
// deletes what the categories in wiped stored. After a withdrawal, when the
// site asks for it, the page reloads: then this page activates nothing more
// (not even what the same decision granted), so that granted content runs
// once, on the reloaded page, not here and again there (a pixel or a
// conversion counted twice). Consent Mode, the deletion and the events
// still happen here, at once: the record, the cookie and crumb.get() all
// have the new state, and a listener may need to act on a withdrawal
// before the page goes (an SDK's own opt-out). The state they get says
// reload: true, so that a listener that loads content itself leaves that
// to the reloaded page too.
function changed(s, wiped, withdrawal) {
  const reload = withdrawal && cfg.reload_on_withdraw
  if (reload) s.reload = true
  consentUpdate(s.categories)
  wipe(wiped)
  refresh()
  recheck(reload)
  // Each listener runs in its own task, so one that throws stops no other.
  for (const fn of listeners) setTimeout(fn, 0, s)
  document.dispatchEvent(new CustomEvent('crumb:consent', { detail: s }))
  if (reload) location.reload()
}

// sansGPC grants the optional categories that was(id) grants but those
// refused by GPC.
function sansGPC(was) {
  const on = {}
  for (const id of optional) on[id] = was(id) && !gpc.includes(id)
  return on
}

// acceptAll grants every category but those refused by GPC. src is the
// decision's source (see decide).
export const acceptAll = (src) => decide(sansGPC(() => 1), gpc.length ? 'gpc' : 'accept_all', src)
export const rejectAll = (src) => decide({}, 'reject_all', src)
export const save = (on, src) => decide(on, 'custom', src)

// allow grants ids on top of the current state (a placeholder's button).
export function allow(ids) {
  const on = state().categories
  for (const id of ids) on[id] = true
  save(on, 'placeholder')
}

// erase deletes the visitor's records through the API, then forgets the
// choice here as a withdrawal would.
export async function erase() {
  const before = state().categories
  if (!stored?.id || !(await eraseRecord(stored.id))) return false
  choice = stored = null
  clearCookie()
  forget()
  const gone = cats.filter((k) => !k.locked && before[k.id])
  changed(state(), gone, gone.length)
  return true
}

export function start(c, src) {
  configure(c)
  connect(src)
  stored = readCookie()
  choice = stored?.rev == cfg.revision && stored.ts + cfg.validity > now() ? stored : null
  window.crumb = {
    get: state,
    show: () => ready(() => openSettings(document.activeElement)),
    onChange(fn) {
      listeners.push(fn)
      // The returned function unsubscribes (indexOf's -1 becomes an index
      // past the end: nothing to remove).
      return () => listeners.splice(listeners.indexOf(fn) >>> 0, 1)
    },
    // The page's own script: recorded as such, and a grant only from a
    // handler of the visitor's click or key press (see decide).
    acceptAll: () => acceptAll('script'),
    rejectAll: () => rejectAll('script'),
    version: __CRUMB_VERSION__,
  }
  // Global Privacy Control withdraws what an earlier choice granted of the
  // site's GPC categories, as a withdrawal does, before anything runs
  // (R42); a choice that granted one while GPC was on is the visitor's
  // explicit choice and stays.
  if (choice && !choice.g && gpc.some((id) => choice.on[id])) decide(sansGPC((id) => choice.on[id]), 'gpc')
  else if (choice) consentUpdate(state().categories)
  // What refused categories stored goes on every page, not only when
  // they are refused: a tag still running on the page of a withdrawal, or
  // a cookie on a path below that page's, may have left some (R20).
  wipe(cats.filter((k) => !granted(k.id)))
  startGate()
  ready(() => (choice ? showIcon() : showBanner()))
  flush()
}

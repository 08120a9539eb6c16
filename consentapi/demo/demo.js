// The demo page's own script (strictly necessary, so not gated): shows
// what crumb lets run and which cookies the page has, and opens crumb's
// settings from the page's link.
const show = () => {
  const state = window.crumb && window.crumb.get()
  for (const id of ['analytics', 'marketing']) {
    const on = state && state.categories[id]
    const el = document.getElementById(id)
    el.textContent = on ? 'tillåten – skriptet har körts' : 'blockerad'
    el.className = on ? 'on' : ''
  }
  const names = document.cookie.split('; ').filter(Boolean).map((c) => c.split('=')[0])
  document.getElementById('cookies').textContent = names.join(', ') || 'inga'
}
document.addEventListener('crumb:consent', () => setTimeout(show, 300))
document.getElementById('settings').addEventListener('click', (e) => {
  e.preventDefault()
  window.crumb.show()
})
setTimeout(show, 300)

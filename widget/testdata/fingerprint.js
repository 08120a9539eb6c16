// A stand-in for a canvas-fingerprinting script: it draws text and reads
// the pixels back.
;(window.ran = window.ran || []).push('fingerprint')
;(() => {
  const c = document.createElement('canvas')
  const g = c.getContext('2d')
  g.font = '16px Arial'
  g.fillText('fingerprint 😀', 2, 16)
  window.fingerprint = c.toDataURL().length
})()

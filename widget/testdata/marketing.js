// A stand-in for an ad tag.
;(window.ran = window.ran || []).push('marketing')
document.cookie = '_fbp=fb.1.1700000000.42; Path=/; Max-Age=3600'

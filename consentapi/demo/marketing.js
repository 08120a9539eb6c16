// Stands in for an ad tag: it sets the cookies a Meta or Google Ads tag would.
document.cookie = '_fbp=fb.1.' + Date.now() + '.1; Path=/; Max-Age=7776000; SameSite=Lax'
document.cookie = '_gcl_au=1.1.' + Date.now() + '; Path=/; Max-Age=7776000; SameSite=Lax'

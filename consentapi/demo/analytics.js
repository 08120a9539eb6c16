// Stands in for an analytics tag: it sets the cookies Google Analytics would.
document.cookie = '_ga=GA1.1.' + Date.now() + '; Path=/; Max-Age=63072000; SameSite=Lax'
document.cookie = '_ga_DEMO123=GS1.1.' + Date.now() + '; Path=/; Max-Age=63072000; SameSite=Lax'

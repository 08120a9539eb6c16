// crumb consent banner: the entry point. The served crumb.js is this bundle
// with the site's widget.Config inlined as a JSON string in place of
// __CRUMB_CONFIG__ (see widget.Bundle.Script). It must be the first script
// in <head>, loaded without async or defer, so that the Consent Mode
// default is set (gcm.js, imported first) and the stored choice applied
// before any other script runs.
import './gcm.js'
import { start } from './consent.js'

start(JSON.parse(__CRUMB_CONFIG__), document.currentScript?.src)

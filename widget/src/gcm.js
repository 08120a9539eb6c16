// Google Consent Mode v2. The default (everything denied but security) is
// pushed before any other script runs; then exactly one update per decision
// (and one per page for a stored choice): analytics -> analytics_storage,
// marketing -> ad_storage, ad_user_data, ad_personalization.

function gtag() {
  (window.dataLayer ||= []).push(arguments)
}

const denied = 'denied'

// modes maps category ids to the four signals crumb sets; on maps ids to
// true when granted.
function modes(on) {
  const v = (b) => (b ? 'granted' : denied)
  const ads = v(on.marketing)
  return { ad_storage: ads, ad_user_data: ads, ad_personalization: ads, analytics_storage: v(on.analytics) }
}

// The default, pushed as this module is evaluated: main.js imports it
// first, before anything else can run.
gtag('consent', 'default', {
  ...modes({}),
  functionality_storage: denied,
  personalization_storage: denied,
  security_storage: 'granted',
  wait_for_update: 500,
})

// consentUpdate tells Google's tags the visitor's decision.
export const consentUpdate = (on) => gtag('consent', 'update', modes(on))

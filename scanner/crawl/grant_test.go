package crawl

import (
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/browsertest"
)

// TestGrantScript runs grant.js in Chromium against small doubles of each
// consent platform's API, as their documentation describes it: the call it
// makes, and that it reports a category as granted only when the platform
// says so afterwards.
func TestGrantScript(t *testing.T) {
	tests := []struct {
		name     string
		platform string // a script that sets up the platform's API
		want     scanner.Category
		result   *cmpGrant
	}{
		{"Cookiebot", `window.Cookiebot = { consent: { necessary: true, preferences: false, statistics: false, marketing: false },
			submitCustomConsent(p, s, m) { Object.assign(this.consent, { preferences: p, statistics: s, marketing: m }) } }`,
			scanner.Analytics, &cmpGrant{"Cookiebot", "Cookiebot.submitCustomConsent(false, true, false)", true}},
		{"Cookiebot ignoring the call", `window.Cookiebot = { consent: { statistics: false, marketing: false }, submitCustomConsent() {} }`,
			scanner.Marketing, &cmpGrant{"Cookiebot", "Cookiebot.submitCustomConsent(false, false, true)", false}},
		{"OneTrust", `window.OnetrustActiveGroups = ',C0001,'; window.OneTrust = { UpdateConsent(type, v) {
			const [g, on] = v.split(':'); const set = new Set(OnetrustActiveGroups.split(',').filter(Boolean));
			on === '1' ? set.add(g) : set.delete(g); window.OnetrustActiveGroups = ',' + [...set].join(',') + ',' } }`,
			scanner.Marketing, &cmpGrant{"OneTrust", "OneTrust.UpdateConsent('Category', 'C0002:0'); OneTrust.UpdateConsent('Category', 'C0004:1'); OneTrust.UpdateConsent('Category', 'C0003:0')", true}},
		{"CookieScript", `window.CookieScript = { instance: { cats: [], acceptAction(c) { this.cats = c },
			currentState() { return { action: 'accept', categories: this.cats } } } }`,
			scanner.Marketing, &cmpGrant{"CookieScript", "CookieScript.instance.acceptAction(['targeting'])", true}},
		{"vanilla-cookieconsent, a synonym", `window.CookieConsent = { acc: [], getConfig(k) { return { necessary: {}, ads: {}, analytics: {} } },
			acceptCategory(c) { this.acc = c }, acceptedCategory(n) { return this.acc.includes(n) } }`,
			scanner.Marketing, &cmpGrant{"vanilla-cookieconsent", "CookieConsent.acceptCategory(['ads'])", true}},
		{"vanilla-cookieconsent without the category", `window.CookieConsent = { getConfig() { return { necessary: {}, functionality: {} } },
			acceptCategory() { throw new Error('must not be called') }, acceptedCategory() { return false } }`,
			scanner.Marketing, nil},
		{"no platform", `window.dataLayer = []`, scanner.Analytics, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := browsertest.Tab(t)
			if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[*runtime.RemoteObject](tt.platform)); err != nil {
				t.Fatal(err)
			}
			got, err := chromedp.Run(ctx, chromedp.Evaluate[*cmpGrant](grantScript(tt.want), chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case (got == nil) != (tt.result == nil):
				t.Fatalf("grant.js returned %+v, want %+v", got, tt.result)
			case got != nil && *got != *tt.result:
				t.Errorf("grant.js returned\n%+v, want\n%+v", *got, *tt.result)
			}
		})
	}
}

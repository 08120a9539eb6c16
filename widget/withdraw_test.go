package widget_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/crumbhq/crumb/scanner/browsertest"
	"github.com/crumbhq/crumb/widget"
)

// toggles is the state of the Settings dialog's switches, necessary first.
var toggles = `[...` + in("dialog") + `.querySelectorAll('input')].map(i => (i.checked ? 'on' : 'off') + (i.disabled ? '/locked' : ''))`

// TestWithdrawingTakesNoMoreClicksThanConsenting counts clicks (R19).
// Giving consent is one click: Accept all on the first layer, which shows
// by itself. Withdrawing is one click too: Reject all, in view without
// scrolling as soon as the cookie icon, present on every page, has opened
// Settings (the icon is how the dialog appears, as the first layer appears
// by itself). The reopened dialog shows the current choice. The test fails
// if either count changes, e.g. a confirmation step or a Reject all that
// needs scrolling or another click to reach.
func TestWithdrawingTakesNoMoreClicksThanConsenting(t *testing.T) {
	tests := []struct {
		name          string
		width, height int64
	}{
		{"desktop 1280x800", 1280, 800},
		{"phone 375x667", 375, 667},
		{"small phone 320x568", 320, 568},
		{"phone landscape 667x375", 667, 375},
	}
	site := newTestSite(t, mustBuild(t), testConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := browsertest.Tab(t)
			do(t, ctx, chromedp.EmulateViewport(tt.width, tt.height))
			before := len(site.recorded())
			var clicks int
			// press clicks el, which must be in view as the dialog or
			// banner first shows it: no scrolling, nothing on top of it.
			press := func(el string) {
				t.Helper()
				waitJS(t, ctx, el)
				time.Sleep(300 * time.Millisecond) // let the slide-in finish
				if !visibleNow(t, ctx, el) {
					t.Fatalf("%s is not wholly visible where it first shows", eval[string](t, ctx, `(`+el+`).textContent || (`+el+`).ariaLabel`))
				}
				click(t, ctx, el)
				clicks++
			}
			granted := func(analytics, marketing bool) string {
				return `(c => c.analytics === ` + boolJS(analytics) + ` && c.marketing === ` + boolJS(marketing) + `)(crumb.get().categories)`
			}

			// Consenting: the banner shows by itself; Accept all.
			open(t, ctx, site.url("/index.html"))
			press(in(".bs .a"))
			waitJS(t, ctx, granted(true, true))
			if clicks != 1 {
				t.Fatalf("consenting took %d clicks, want 1", clicks)
			}
			checkRecord(t, site.waitRecorded(before + 1)[before], "accept_all", true, true)

			// Withdrawing, on a later page: the icon opens Settings, which
			// shows the current choice; Reject all.
			open(t, ctx, site.url("/shop/cart.html"))
			press(in(".i"))
			waitJS(t, ctx, in("dialog[open]"))
			if got := eval[[]string](t, ctx, toggles); !slices.Equal(got, []string{"on/locked", "on", "on"}) {
				t.Errorf("reopened after Accept all: toggles %v, want all on (the current choice)", got)
			}
			clicks = 0
			press(in(".ft .r"))
			waitJS(t, ctx, granted(false, false)+` && !`+in("dialog"))
			if clicks != 1 {
				t.Fatalf("withdrawing took %d clicks after opening Settings, want 1", clicks)
			}
			checkRecord(t, site.waitRecorded(before + 2)[before+1], "withdraw", false, false)

			// Reopened again, Settings shows the withdrawal.
			open(t, ctx, site.url("/index.html"))
			press(in(".i"))
			waitJS(t, ctx, in("dialog[open]"))
			if got := eval[[]string](t, ctx, toggles); !slices.Equal(got, []string{"on/locked", "off", "off"}) {
				t.Errorf("reopened after withdrawing: toggles %v, want all off but necessary", got)
			}
		})
	}
}

func boolJS(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestIconOpensSettingsByKeyboard checks R18 on a page view in which the
// banner never showed (the visitor decided on an earlier page): the cookie
// icon is reached with Tab, shows where focus is, and Enter or Space opens
// Settings; Escape closes it and gives focus back to the icon.
func TestIconOpensSettingsByKeyboard(t *testing.T) {
	tests := []struct{ name, key string }{
		{"Enter", kb.Enter},
		{"Space", " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newTestSite(t, mustBuild(t), testConfig())
			ctx := browsertest.Tab(t)
			beforeLoad(t, ctx, probeFlash)
			open(t, ctx, site.url("/index.html"))
			click(t, ctx, in(".bs .r"))
			site.waitRecorded(1)

			// A fresh page load: the stored refusal applies, no banner.
			open(t, ctx, site.url("/index.html"))
			waitJS(t, ctx, in(".i"))
			onIcon := focused + ` === ` + in(".i")
			for i := 0; !eval[bool](t, ctx, onIcon); i++ {
				if i == 20 {
					t.Fatalf("20 Tabs did not reach the cookie icon; focus is on %s", eval[string](t, ctx, focused+`?.outerHTML`))
				}
				keys(t, ctx, kb.Tab)
			}
			if got := eval[string](t, ctx, `(s => s.outlineStyle + ' ' + s.outlineWidth)(getComputedStyle(`+focused+`))`); got != "solid 3px" {
				t.Errorf("focused icon outline = %q, want a visible 3px outline", got)
			}
			if got := eval[string](t, ctx, in(".i")+`.getAttribute('aria-label')`); got != "Cookie settings" {
				t.Errorf("icon label = %q", got)
			}
			keys(t, ctx, tt.key)
			waitJS(t, ctx, in("dialog[open]"))
			if n := eval[int](t, ctx, `window.bannerFrames`); n != 0 {
				t.Errorf("the banner showed for %d frames in this page view", n)
			}
			if got := eval[[]string](t, ctx, toggles); !slices.Equal(got, []string{"on/locked", "off", "off"}) {
				t.Errorf("Settings opened from the icon shows %v, want the stored refusal", got)
			}
			keys(t, ctx, kb.Escape)
			waitJS(t, ctx, `!`+in("dialog"))
			if !eval[bool](t, ctx, onIcon) {
				t.Errorf("after Escape focus is on %s, want the icon", eval[string](t, ctx, focused+`?.outerHTML`))
			}
			if n := len(site.recorded()); n != 1 {
				t.Errorf("%d records, want only the first refusal", n)
			}
		})
	}
}

// TestWithdrawalDeletesStorage checks that a withdrawal deletes the
// first-party localStorage and sessionStorage items that the withdrawn
// category's table declares (names and "*" patterns), keeps the kept
// category's items, what no table declares and crumb's own items, even
// under patterns that match them ("*_pending", "*_consent"), and goes on
// when the browser blocks storage.
func TestWithdrawalDeletesStorage(t *testing.T) {
	row := func(name, kind string) widget.Cookie {
		return widget.Cookie{Name: name, Pattern: contains(name, "*"), Kind: kind, Party: "first", Provider: "Fixture AB"}
	}
	cfg := testConfig()
	// Storage rows first: a throwing storage must not keep the cookie rows
	// after them from being deleted.
	cfg.Categories[1].Cookies = append([]widget.Cookie{
		row("ana_ls", "localStorage"), row("ana_ss_*", "sessionStorage"), row("*_pending", "localStorage"), row("*_consent", "cookie"),
		{Name: "ana_tp", Kind: "localStorage", Party: "third", Provider: "Other Ltd"},
	}, cfg.Categories[1].Cookies...)
	cfg.Categories[2].Cookies = append(cfg.Categories[2].Cookies, row("mkt_ls", "localStorage"), row("mkt_ss", "sessionStorage"))
	const block = `for (const k of ['localStorage', 'sessionStorage']) Object.defineProperty(window, k, {get() { throw new DOMException('blocked', 'SecurityError') }})`
	const storage = `[Object.keys(localStorage).sort(), Object.keys(sessionStorage).sort()]`

	tests := []struct {
		name    string
		blocked bool // the browser blocks both storages
	}{
		{"storage", false},
		{"storage blocked", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newTestSite(t, mustBuild(t), cfg)
			ctx := browsertest.Tab(t)
			if tt.blocked {
				beforeLoad(t, ctx, block)
			}
			open(t, ctx, site.url("/index.html"))
			click(t, ctx, in(".bs .a"))
			checkRecord(t, site.waitRecorded(1)[0], "accept_all", true, true)
			waitJS(t, ctx, `(window.ran || []).length >= 4`)
			eval[bool](t, ctx, `document.addEventListener('crumb:consent', (e) => (window.got = e.detail)), true`)
			if !tt.blocked {
				eval[bool](t, ctx, `(() => {
					for (const k of ['ana_ls', 'ana_pending', 'ana_tp', 'mkt_ls', 'other_ls']) localStorage.setItem(k, 'x')
					for (const k of ['ana_ss_1', 'ana_ss_2', 'mkt_ss', 'other_ss']) sessionStorage.setItem(k, 'x')
					return true
				})()`)
				// The API is unreachable: the withdrawal waits in
				// crumb_pending, which the "*_pending" row matches.
				site.setDown(true)
			}

			// Withdraw analytics in Settings; marketing stays.
			click(t, ctx, in(".i"))
			click(t, ctx, `[...`+in("dialog")+`.querySelectorAll('input')][1]`)
			click(t, ctx, in(".ft .s"))
			waitJS(t, ctx, `window.got?.categories.analytics === false && window.got.categories.marketing === true`)
			// _ga_SHOP lives on /shop, out of this page's reach.
			if got, want := names(cookies(t, ctx, site)), []string{"_fbp", "_ga_SHOP", "crumb_consent"}; !slices.Equal(got, want) {
				t.Errorf("cookies after withdrawing analytics: %v, want %v", got, want)
			}
			if tt.blocked {
				checkRecord(t, site.waitRecorded(2)[1], "withdraw", false, true)
				return
			}
			got := eval[[][]string](t, ctx, storage)
			if want := []string{"ana_tp", "crumb_pending", "mkt_ls", "other_ls"}; !slices.Equal(got[0], want) {
				t.Errorf("localStorage after withdrawing analytics: %v, want %v", got[0], want)
			}
			if want := []string{"mkt_ss", "other_ss"}; !slices.Equal(got[1], want) {
				t.Errorf("sessionStorage after withdrawing analytics: %v, want %v", got[1], want)
			}
			if got := eval[[]string](t, ctx, `JSON.parse(localStorage.getItem('crumb_pending')).map((b) => b.action)`); !slices.Equal(got, []string{"withdraw"}) {
				t.Errorf("crumb_pending holds %v, want the withdrawal", got)
			}

			// The next page sends the withdrawal, under the consent kept in
			// the cookie: no banner.
			site.setDown(false)
			open(t, ctx, site.url("/index.html"))
			checkRecord(t, site.waitRecorded(2)[1], "withdraw", false, true)
			waitJS(t, ctx, `localStorage.getItem('crumb_pending') === null && `+in(".i"))
			if in := eval[bool](t, ctx, `!!`+in(".b")); in {
				t.Error("the banner shows after the withdrawal: the consent cookie went")
			}
			// A page below /shop deletes what the withdrawn category left
			// on its path, out of reach of the page of the withdrawal (R20).
			open(t, ctx, site.url("/shop/cart.html"))
			waitJS(t, ctx, in(".i"))
			if got := names(cookies(t, ctx, site)); slices.Contains(got, "_ga_SHOP") {
				t.Errorf("cookies on /shop after withdrawing analytics: %v, want no _ga_SHOP", got)
			}
		})
	}
}

// TestLateOlderDecisionKeepsNewerChoice: the visitor accepts while the API
// is down, then withdraws; on a later page the API records the queued
// accept but not yet the withdrawal (a failover). The accept's answer must
// not put the older choice back in the consent cookie: the next page still
// runs nothing of the withdrawn categories (R20, R3).
func TestLateOlderDecisionKeepsNewerChoice(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	open(t, ctx, site.url("/index.html"))
	site.setDown(true)
	click(t, ctx, in(".bs .a"))
	waitJS(t, ctx, in(".i"))
	click(t, ctx, in(".i"))
	click(t, ctx, in(".ft .r"))
	waitJS(t, ctx, `crumb.get().categories.analytics === false`)

	site.setDown(false)
	site.setRefuse("withdraw")
	open(t, ctx, site.url("/index.html"))
	if rec := site.waitRecorded(1)[0]; rec.Action != "accept_all" {
		t.Fatalf("recorded %s, want the queued accept_all", rec.Action)
	}
	waitJS(t, ctx, `JSON.parse(localStorage.getItem('crumb_pending') || '[]').length === 1`)
	if c := cookies(t, ctx, site)["crumb_consent"]; c == nil || !contains(c.Value, ".-.") {
		t.Errorf("crumb_consent after the older accept was recorded: %v, want the withdrawal (nothing granted)", c)
	}
	open(t, ctx, site.url("/index.html"))
	waitJS(t, ctx, in(".i"))
	time.Sleep(300 * time.Millisecond)
	if s := eval[map[string]any](t, ctx, `crumb.get()`); !equalJSON(s["categories"], map[string]bool{"necessary": true, "analytics": false, "marketing": false}) {
		t.Errorf("state on the next page = %v, want the withdrawal", s["categories"])
	}
	if ran := eval[[]string](t, ctx, `window.ran || []`); len(ran) != 0 {
		t.Errorf("gated scripts ran after the withdrawal: %v", ran)
	}
}

// TestReloadAfterWithdrawAndGrant checks a Save that withdraws one category
// and grants another with reload_on_withdraw: the newly granted content
// loads once, on the reloaded page, not also on the page the decision was
// made on; Consent Mode and the crumb:consent event still follow the
// decision before the reload, the event saying that a reload follows.
func TestReloadAfterWithdrawAndGrant(t *testing.T) {
	cfg := testConfig()
	cfg.ReloadOnWithdraw = true
	site := newTestSite(t, mustBuild(t), cfg)
	ctx := browsertest.Tab(t)
	// Every crumb:consent event, with the dataLayer's last entry then, is
	// kept across the reload.
	beforeLoad(t, ctx, `document.addEventListener('crumb:consent', (e) => {
		const log = JSON.parse(sessionStorage.getItem('events') || '[]')
		log.push({detail: e.detail, last: Array.from(window.dataLayer.at(-1))})
		sessionStorage.setItem('events', JSON.stringify(log))
	})`)
	marketing := []string{"/marketing.js", "/pixel.gif", "/embed.html"}

	// Statistics only.
	open(t, ctx, site.url("/index.html"))
	click(t, ctx, in(".bs .s"))
	click(t, ctx, `[...`+in("dialog")+`.querySelectorAll('input')][1]`)
	click(t, ctx, in(".ft .s"))
	checkRecord(t, site.waitRecorded(1)[0], "custom", true, false)
	waitJS(t, ctx, `(window.ran || []).length >= 3`)

	// One Save: statistics off, marketing on.
	eval[bool](t, ctx, `window.before = true`)
	click(t, ctx, in(".i"))
	click(t, ctx, `[...`+in("dialog")+`.querySelectorAll('input')][1]`)
	click(t, ctx, `[...`+in("dialog")+`.querySelectorAll('input')][2]`)
	click(t, ctx, in(".ft .s"))
	waitJS(t, ctx, `!window.before && document.readyState === 'complete'`) // reloaded
	checkRecord(t, site.waitRecorded(2)[1], "withdraw", false, true)
	waitJS(t, ctx, `window.ran?.includes('marketing')`)
	for _, p := range marketing {
		site.waitFor(p, func() bool { return len(site.fetchedAny(p)) > 0 })
	}
	time.Sleep(400 * time.Millisecond)
	for _, p := range marketing {
		if n := len(site.fetchedAny(p)); n != 1 {
			t.Errorf("%s fetched %d times, want once (on the reloaded page)", p, n)
		}
	}
	if ran := eval[[]string](t, ctx, `window.ran`); !slices.Equal(ran, []string{"marketing"}) {
		t.Errorf("the reloaded page ran %v, want only marketing", ran)
	}
	checkConsentMode(t, ctx, cmDefault, cmUpdate(false, true))

	type event struct {
		Detail struct {
			Categories map[string]bool `json:"categories"`
			Reload     bool            `json:"reload"`
		} `json:"detail"`
		Last []any `json:"last"`
	}
	var events []event
	if err := json.Unmarshal([]byte(eval[string](t, ctx, `sessionStorage.getItem('events')`)), &events); err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d crumb:consent events, want 2: %+v", len(events), events)
	}
	if e := events[0]; e.Detail.Reload || !e.Detail.Categories["analytics"] {
		t.Errorf("first event %+v, want analytics granted and no reload", e)
	}
	if e := events[1]; !e.Detail.Reload || e.Detail.Categories["analytics"] || !e.Detail.Categories["marketing"] || !equalJSON(e.Last, cmUpdate(false, true)) {
		t.Errorf("the withdrawal's event %+v, want analytics off, marketing on, reload, after the Consent Mode update %v", e, cmUpdate(false, true))
	}
}

package widget_test

import (
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/crumbhq/crumb/scanner/browsertest"
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

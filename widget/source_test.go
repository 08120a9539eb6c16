package widget_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/crumbhq/crumb/scanner/browsertest"
)

// pageButton adds a button of the page's own, in its top left corner, whose
// click handler runs js; it returns the button as a JavaScript expression.
func pageButton(tb testing.TB, ctx context.Context, js string) string {
	tb.Helper()
	eval[bool](tb, ctx, `(() => {
		const b = document.createElement('button')
		b.id = 'own'
		b.textContent = 'Own button'
		b.style.cssText = 'position: fixed; top: 8px; left: 8px; z-index: 1'
		b.onclick = () => { `+js+` }
		document.body.prepend(b)
		return true
	})()`)
	return `document.getElementById('own')`
}

// captureWarnings keeps what the page's console.warn gets in window.warned.
const captureWarnings = `window.warned = [];
{ const warn = console.warn; console.warn = (...a) => { warned.push(a.join(' ')); warn(...a) } }`

// TestDecisionSource checks that every way of deciding records its source
// (R22): the first layer's buttons, Settings', a placeholder's, and the
// page's own script through the JavaScript API.
func TestDecisionSource(t *testing.T) {
	settings := func(t *testing.T, ctx context.Context) {
		click(t, ctx, in(".bs .s"))
		waitJS(t, ctx, in("dialog[open]"))
	}
	tests := []struct {
		name   string
		page   string
		decide func(t *testing.T, ctx context.Context)
		action string
		on     [2]bool // analytics, marketing
		source string
	}{
		{"first layer, Accept all", "/index.html", func(t *testing.T, ctx context.Context) { click(t, ctx, in(".bs .a")) }, "accept_all", [2]bool{true, true}, "banner"},
		{"first layer, Reject all", "/index.html", func(t *testing.T, ctx context.Context) { click(t, ctx, in(".bs .r")) }, "reject_all", [2]bool{}, "banner"},
		{"Settings, Accept all", "/index.html", func(t *testing.T, ctx context.Context) {
			settings(t, ctx)
			click(t, ctx, in(".ft .a"))
		}, "accept_all", [2]bool{true, true}, "settings"},
		{"Settings, Reject all", "/index.html", func(t *testing.T, ctx context.Context) {
			settings(t, ctx)
			click(t, ctx, in(".ft .r"))
		}, "reject_all", [2]bool{}, "settings"},
		{"Settings, Save", "/index.html", func(t *testing.T, ctx context.Context) {
			settings(t, ctx)
			click(t, ctx, `[...`+in("dialog")+`.querySelectorAll('input')][1]`)
			click(t, ctx, in(".ft .s"))
		}, "custom", [2]bool{true, false}, "settings"},
		{"placeholder", "/placeholders.html", func(t *testing.T, ctx context.Context) {
			click(t, ctx, `document.querySelector('crumb-embed')?.shadowRoot.querySelector('button')`)
		}, "custom", [2]bool{false, true}, "placeholder"},
		{"crumb.acceptAll() from a click", "/index.html", func(t *testing.T, ctx context.Context) {
			click(t, ctx, pageButton(t, ctx, `crumb.acceptAll()`))
		}, "accept_all", [2]bool{true, true}, "script"},
		{"crumb.rejectAll() without a gesture", "/index.html", func(t *testing.T, ctx context.Context) {
			eval[bool](t, ctx, `crumb.rejectAll(), true`)
		}, "reject_all", [2]bool{}, "script"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newTestSite(t, mustBuild(t), testConfig())
			ctx := browsertest.Tab(t)
			open(t, ctx, site.url(tt.page))
			tt.decide(t, ctx)
			rec := site.waitRecorded(1)[0]
			checkRecord(t, rec, tt.action, tt.on[0], tt.on[1])
			if string(rec.Source) != quote(tt.source) {
				t.Errorf("source = %s, want %q", rec.Source, tt.source)
			}
		})
	}
}

// TestSourceOfLaterDecisions checks the source of a withdrawal in Settings,
// of a decision recorded late (crumb_pending keeps it) and of GPC's own
// withdrawal on a later page, which no one made: it has none.
func TestSourceOfLaterDecisions(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	site.setDown(true)
	open(t, ctx, site.url("/index.html"))
	click(t, ctx, in(".bs .a"))
	waitJS(t, ctx, in(".i"))
	pending := eval[[]map[string]any](t, ctx, `JSON.parse(localStorage.getItem('crumb_pending'))`)
	if len(pending) != 1 || pending[0]["source"] != "banner" {
		t.Fatalf("crumb_pending = %v, want the decision with its source", pending)
	}
	site.setDown(false)
	open(t, ctx, site.url("/shop/cart.html"))
	rec := site.waitRecorded(1)[0]
	checkRecord(t, rec, "accept_all", true, true)
	if string(rec.Source) != `"banner"` {
		t.Errorf("late record's source = %s, want \"banner\"", rec.Source)
	}

	// Withdrawing in Settings.
	click(t, ctx, in(".i"))
	waitJS(t, ctx, in("dialog[open]"))
	click(t, ctx, `[...`+in("dialog")+`.querySelectorAll('input')][1]`)
	click(t, ctx, in(".ft .s"))
	rec = site.waitRecorded(2)[1]
	checkRecord(t, rec, "withdraw", false, true)
	if string(rec.Source) != `"settings"` {
		t.Errorf("withdrawal's source = %s, want \"settings\"", rec.Source)
	}

	// The browser starts sending GPC: marketing is withdrawn, by no one.
	beforeLoad(t, ctx, `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})`)
	open(t, ctx, site.url("/index.html"))
	rec = site.waitRecorded(3)[2]
	checkRecord(t, rec, "gpc", false, false)
	if rec.Source != nil {
		t.Errorf("GPC's withdrawal has source %s, want none (the key left out)", rec.Source)
	}
}

// TestScriptGrantNeedsGesture checks that the page's script cannot grant
// without the visitor's click or key press (R12): crumb.acceptAll() from a
// scroll handler or a timer, or a click() on the banner's own Accept all,
// records and grants nothing and warns; from the handler of a real click or
// key press it is recorded, as script, and grants; refusing needs no
// gesture.
func TestScriptGrantNeedsGesture(t *testing.T) {
	gestures := []struct {
		name string
		make func(t *testing.T, ctx context.Context, el string)
	}{
		{"mouse click", func(t *testing.T, ctx context.Context, el string) { click(t, ctx, el) }},
		{"key press", func(t *testing.T, ctx context.Context, el string) {
			eval[bool](t, ctx, `(`+el+`).focus(), true`)
			keys(t, ctx, kb.Enter)
		}},
	}
	for _, g := range gestures {
		t.Run(g.name, func(t *testing.T) {
			site := newTestSite(t, mustBuild(t), testConfig())
			ctx := browsertest.Tab(t)
			beforeLoad(t, ctx, captureWarnings)
			open(t, ctx, site.url("/index.html"))
			waitJS(t, ctx, in(".bs .a"))
			eval[bool](t, ctx, `document.body.style.minHeight = '4000px';
				addEventListener('scroll', () => { window.scrolled = true; crumb.acceptAll() }, {once: true});
				setTimeout(() => { window.timed = true; crumb.acceptAll() }, 0);
				setTimeout(() => { window.clicked = true; `+in(".bs .a")+`?.click() }, 0);
				true`)
			// The visitor scrolls with the mouse wheel: no user activation.
			do(t, ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseWheel, 200, 100, func(p *input.DispatchMouseEventParams) {
				// The protocol wants deltaX, which cdproto leaves out when 0.
				p.DeltaX, p.DeltaY = 0.01, 600
			}))
			waitJS(t, ctx, `window.scrolled && window.timed && window.clicked`)
			time.Sleep(300 * time.Millisecond)
			if n := len(site.recorded()); n != 0 {
				t.Errorf("%d decisions recorded without a gesture: %v", n, site.recorded())
			}
			if s := eval[map[string]any](t, ctx, `crumb.get()`); s["decided"] != false || !equalJSON(s["categories"], map[string]bool{"necessary": true, "analytics": false, "marketing": false}) {
				t.Errorf("state after grants without a gesture = %v", s)
			}
			if c := cookies(t, ctx, site); c["crumb_consent"] != nil {
				t.Errorf("crumb_consent = %q set without a gesture", c["crumb_consent"].Value)
			}
			if hit := site.fetchedAny(gated...); len(hit) != 0 {
				t.Errorf("fetched without a gesture: %v", hit)
			}
			if !eval[bool](t, ctx, `!!`+in(".b")) {
				t.Error("the banner went away without a gesture")
			}
			if w := eval[[]string](t, ctx, `warned`); len(w) != 3 || !contains(w[0], "user gesture") {
				t.Errorf("console.warn got %q, want 3 warnings about the missing user gesture", w)
			}
			// A click, then a timer: the browser still counts the click as
			// user activation for seconds, but the timer is no gesture.
			click(t, ctx, pageButton(t, ctx, `setTimeout(() => { window.late = true; crumb.acceptAll() }, 300)`))
			waitJS(t, ctx, `window.late`)
			time.Sleep(300 * time.Millisecond)
			if n := len(site.recorded()); n != 0 {
				t.Errorf("a timer 300 ms after a click recorded %d decisions: %v", n, site.recorded())
			}
			eval[bool](t, ctx, `document.getElementById('own').remove(), true`)

			// The same call from the handler of the visitor's gesture.
			g.make(t, ctx, pageButton(t, ctx, `crumb.acceptAll()`))
			rec := site.waitRecorded(1)[0]
			checkRecord(t, rec, "accept_all", true, true)
			if string(rec.Source) != `"script"` {
				t.Errorf("source = %s, want \"script\"", rec.Source)
			}
			waitJS(t, ctx, `window.ran?.length >= 4`)

			// Refusing needs no gesture.
			eval[bool](t, ctx, `setTimeout(() => crumb.rejectAll(), 0), true`)
			rec = site.waitRecorded(2)[1]
			checkRecord(t, rec, "withdraw", false, false)
			if string(rec.Source) != `"script"` {
				t.Errorf("withdrawal's source = %s, want \"script\"", rec.Source)
			}
		})
	}
}

package widget_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crumbhq/crumb/scanner/browsertest"
)

// visibleNow reports whether the element el (a JavaScript expression) lies
// wholly inside the viewport and is on top at its centre, at four points
// halfway to its corners and at the middle of each edge (so a clipped last
// line of text counts), as the page is now: unlike click, it scrolls
// nothing, so an element that needs scrolling first counts as not visible.
func visibleNow(tb testing.TB, ctx context.Context, el string) bool {
	tb.Helper()
	return eval[bool](tb, ctx, `(() => {
		const e = (`+el+`), r = e?.getBoundingClientRect()
		if (!r || r.width < 1 || r.height < 1 || r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight) return false
		const top = (x, y) => { let d = document.elementFromPoint(x, y); while (d?.shadowRoot) { const n = d.shadowRoot.elementFromPoint(x, y); if (!n || n === d) break; d = n } return d }
		const cx = r.left + r.width / 2, cy = r.top + r.height / 2, dx = r.width / 4, dy = r.height / 4, l = r.left + 1, t = r.top + 1, ri = r.right - 1, b = r.bottom - 1
		return [[cx, cy], [cx - dx, cy - dy], [cx + dx, cy - dy], [cx - dx, cy + dy], [cx + dx, cy + dy], [cx, t], [cx, b], [l, cy], [ri, cy]].every(([x, y]) => e.contains(top(x, y)))
	})()`)
}

// TestBannerIsNoCookieWall checks R11 on small screens: the first layer
// covers at most 60% of the viewport, Accept all and Reject all are both
// in view without scrolling and equally prominent, and the page behind the
// open banner still works (a link in it can be clicked). From 360x640 up,
// in English and Swedish, with and without GPC (whose notice adds to the
// text), the first layer shows without scrolling every category by name
// (R9) and the sentence on how to withdraw (R10); on smaller screens the
// banner's text scrolls to them, and shows that it scrolls.
func TestBannerIsNoCookieWall(t *testing.T) {
	tests := []struct {
		name           string
		page           string
		width, height  int64
		withdrawInView bool // and the category names
		gpc            bool
	}{
		{"iPhone SE 2nd gen 375x667", "/index.html", 375, 667, true, false},
		{"iPhone SE 1st gen 320x568", "/index.html", 320, 568, false, false},
		{"Swedish texts 320x568", "/sv.html", 320, 568, false, false},
		{"Swedish texts 375x667", "/sv.html", 375, 667, true, false},
		{"Android 360x640", "/index.html", 360, 640, true, false},
		{"Swedish texts 360x640", "/sv.html", 360, 640, true, false},
		{"Android 360x640 GPC", "/index.html", 360, 640, true, true},
		{"Swedish texts 360x640 GPC", "/sv.html", 360, 640, true, true},
		{"iPhone 14 390x844", "/index.html", 390, 844, true, false},
		{"Swedish texts 390x844", "/sv.html", 390, 844, true, false},
		{"iPhone 14 390x844 GPC", "/index.html", 390, 844, true, true},
		{"Swedish texts 390x844 GPC", "/sv.html", 390, 844, true, true},
		{"phone landscape 667x375", "/index.html", 667, 375, false, false},
		{"desktop 1280x800", "/index.html", 1280, 800, true, false},
		{"desktop 1280x800 GPC", "/index.html", 1280, 800, true, true},
	}
	site := newTestSite(t, mustBuild(t), testConfig())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := browsertest.Tab(t)
			if tt.gpc {
				beforeLoad(t, ctx, `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})`)
			}
			do(t, ctx, chromedp.EmulateViewport(tt.width, tt.height))
			open(t, ctx, site.url(tt.page))
			waitJS(t, ctx, in(".bs .r"))
			time.Sleep(400 * time.Millisecond) // let the slide-in finish

			covered := eval[float64](t, ctx, `(r => r.width * r.height / (innerWidth * innerHeight))(`+in(".b")+`.getBoundingClientRect())`)
			if covered > 0.6 {
				t.Errorf("the banner covers %.0f%% of the %dx%d viewport, want at most 60%%", covered*100, tt.width, tt.height)
			}
			for _, b := range []string{".bs .a", ".bs .r"} {
				if !visibleNow(t, ctx, in(b)) {
					t.Errorf("%s is not wholly visible without scrolling", eval[string](t, ctx, in(b)+`.textContent`))
				}
			}
			withdraw := `[...document.querySelector('crumb-consent').shadowRoot.querySelectorAll('.bt p')].find(p => /withdraw|återkalla/.test(p.textContent))`
			if tt.withdrawInView && !visibleNow(t, ctx, withdraw) {
				t.Errorf("the sentence on how to withdraw is not in view without scrolling at %dx%d", tt.width, tt.height)
			}
			if tt.gpc && !eval[bool](t, ctx, `!!`+in(".bt .n")) {
				t.Error("no GPC notice")
			}
			// A paragraph naming every category (the first one), in view.
			cats := eval[[]string](t, ctx, `[...`+in(".bt")+`.querySelectorAll('li b')].map(b => b.textContent)`)
			named := `[...` + in(".bt") + `.querySelectorAll('p')].find(p => [` + quote(strings.Join(cats, "\n")) + `.split('\n')][0].every(n => p.textContent.includes(n)))`
			if len(cats) != 3 || tt.withdrawInView && !visibleNow(t, ctx, named) {
				t.Errorf("the categories %v are not named in view without scrolling at %dx%d", cats, tt.width, tt.height)
			}
			// Text that scrolls says so: a shadow at the edge where more is.
			if eval[bool](t, ctx, `(b => b.scrollHeight > b.clientHeight + 1)(`+in(".bt")+`)`) && eval[string](t, ctx, `getComputedStyle(`+in(".bt")+`).backgroundImage`) == "none" {
				t.Error("the banner's text scrolls with nothing to show it")
			}
			sizes := eval[[]string](t, ctx, `[`+in(".bs .a")+`, `+in(".bs .r")+`].map(b => { const r = b.getBoundingClientRect(), s = getComputedStyle(b); return [Math.round(r.width), Math.round(r.height), s.fontSize, s.fontWeight].join(' ') })`)
			if sizes[0] != sizes[1] {
				t.Errorf("Accept all is %s (w h size weight), Reject all %s: they must be equally prominent", sizes[0], sizes[1])
			}
			gpc := ""
			if tt.gpc {
				gpc = "-gpc"
			}
			screenshot(t, ctx, "no-wall-"+itoa(tt.width)+"x"+itoa(tt.height)+tt.page[1:len(tt.page)-5]+gpc)

			// The page behind the open banner works: its link navigates.
			click(t, ctx, `document.querySelector('a[href="/shop/cart.html"]')`)
			waitJS(t, ctx, `location.pathname === '/shop/cart.html' && document.readyState === 'complete'`)
			if n := len(site.recorded()); n != 0 {
				t.Errorf("using the page recorded %d decisions", n)
			}
		})
	}
}

package widget_test

import (
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crumbhq/crumb/scanner/browsertest"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

// gated are the fixture files only consent may load.
var gated = []string{"/analytics.js", "/analytics2.js", "/marketing.js", "/embed.html", "/pixel.gif", "/late.js"}

func TestFirstVisitShowsBannerAndRunsNothing(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	beforeLoad(t, ctx, `window.shifts = 0; new PerformanceObserver(l => l.getEntries().forEach(e => shifts += e.value)).observe({type: 'layout-shift', buffered: true})`)
	open(t, ctx, site.url("/index.html"))
	waitJS(t, ctx, in(".b"))

	if got, want := eval[string](t, ctx, in("#ct")+`.textContent`), "We use cookies"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	// The first layer names every category with its line, the controller,
	// the privacy policy and how to withdraw.
	text := eval[string](t, ctx, in(".b")+`.textContent`)
	for _, want := range []string{"Necessary", "Statistics", "Marketing", "Helps us understand how the website is used", "Data controller: Fixture AB", "Privacy policy", "withdraw your consent at any time with the cookie icon in the lower-left corner"} {
		if !contains(text, want) {
			t.Errorf("banner text lacks %q: %s", want, text)
		}
	}
	if got := eval[string](t, ctx, in(".b a")+`.href`); got != site.url("/privacy") {
		t.Errorf("privacy link = %q", got)
	}
	if got := eval[string](t, ctx, in(".b")+`.getAttribute('role') + ' ' + `+in(".b")+`.getAttribute('aria-labelledby')`); got != "dialog ct" {
		t.Errorf("banner role and label = %q, want a dialog labelled by its title", got)
	}

	// Three buttons of one element type, size, font size and weight (R6, R7).
	buttons := eval[[]map[string]any](t, ctx, `[...`+in(".bs")+`.children].map(b => { const r = b.getBoundingClientRect(), s = getComputedStyle(b); return {tag: b.tagName, text: b.textContent, w: Math.round(r.width), h: Math.round(r.height), size: s.fontSize, weight: s.fontWeight} })`)
	if len(buttons) != 3 {
		t.Fatalf("first layer has %d buttons, want 3: %v", len(buttons), buttons)
	}
	for _, b := range buttons[1:] {
		for _, k := range []string{"tag", "w", "h", "size", "weight"} {
			if b[k] != buttons[0][k] {
				t.Errorf("button %q %s = %v, but %q has %v: the choices must be equally prominent", b["text"], k, b[k], buttons[0]["text"], buttons[0][k])
			}
		}
	}
	if got := []any{buttons[0]["text"], buttons[1]["text"], buttons[2]["text"]}; !slices.Equal(got, []any{"Accept all", "Reject all", "Settings"}) {
		t.Errorf("buttons = %v", got)
	}

	// Nothing non-necessary ran, loaded or stored anything (R1).
	time.Sleep(300 * time.Millisecond)
	if ran := eval[[]string](t, ctx, `window.ran || []`); len(ran) != 0 {
		t.Errorf("gated scripts ran before a choice: %v", ran)
	}
	if hit := site.fetchedAny(gated...); len(hit) != 0 {
		t.Errorf("fetched before a choice: %v", hit)
	}
	if c := cookies(t, ctx, site); len(c) != 0 {
		t.Errorf("cookies before a choice: %v", names(c))
	}
	if n := eval[int](t, ctx, `localStorage.length + sessionStorage.length`); n != 0 {
		t.Errorf("%d storage items before a choice", n)
	}
	// The blocked iframe has a click-to-load placeholder naming its host and category (R44).
	if got := eval[string](t, ctx, `document.querySelector('crumb-embed').shadowRoot.textContent`); !contains(got, "127.0.0.1") || !contains(got, "Marketing") {
		t.Errorf("placeholder text = %q", got)
	}
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector('iframe')).display`); got != "none" {
		t.Errorf("blocked iframe display = %s, want none", got)
	}
	site.waitFor("an impression", func() bool { return site.impressionCount() > 0 })
	time.Sleep(100 * time.Millisecond)
	if got := site.impressionCount(); got != 1 {
		t.Errorf("%d impressions, want 1", got)
	}
	if got := site.recorded(); len(got) != 0 {
		t.Errorf("decisions recorded without a choice: %+v", got)
	}
	// The banner overlays the page: it pushes nothing (no layout shift).
	if got := eval[float64](t, ctx, `window.shifts`); got != 0 {
		t.Errorf("cumulative layout shift %v with the banner, want 0", got)
	}
}

func TestScreenshots(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	for _, width := range []int64{1280, 375} {
		ctx := browsertest.Tab(t)
		do(t, ctx, chromedp.EmulateViewport(width, map[int64]int64{1280: 800, 375: 740}[width]))
		open(t, ctx, site.url("/index.html"))
		waitJS(t, ctx, in(".b"))
		time.Sleep(400 * time.Millisecond) // let the slide-in finish
		screenshot(t, ctx, "banner-"+itoa(width))
		click(t, ctx, in(".bs .s"))
		waitJS(t, ctx, in("dialog[open]"))
		eval[bool](t, ctx, `[...`+in("dialog")+`.querySelectorAll('details')][1].open = true`)
		screenshot(t, ctx, "settings-"+itoa(width))
	}
}

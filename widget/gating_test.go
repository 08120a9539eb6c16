package widget_test

import (
	"slices"
	"testing"
	"time"

	"github.com/crumbhq/crumb/scanner/browsertest"
)

// probeCanvas counts canvas read-backs (what fingerprinting scripts do) by
// any script on the page, from the very start of every document.
const probeCanvas = `window.canvasReads = 0;
for (const [proto, name] of [[HTMLCanvasElement.prototype, 'toDataURL'], [HTMLCanvasElement.prototype, 'toBlob'], [CanvasRenderingContext2D.prototype, 'getImageData']]) {
	const f = proto[name];
	proto[name] = function (...a) { window.canvasReads++; return f.apply(this, a) };
}`

// TestTrackersWaitForTheirCategory checks R2 on testdata/trackers.html: a
// pixel, a localStorage writer, a canvas-fingerprinting script and a web
// font stylesheet each load, run or write nothing before consent, and each
// does once its own category is granted, not before.
func TestTrackersWaitForTheirCategory(t *testing.T) {
	trackers := []struct {
		name     string
		category string
		fetched  string // a path whose fetch shows it acted, or
		js       string // an expression true once it has acted
	}{
		{name: "pixel", category: "marketing", fetched: "/pixel.gif"},
		{name: "localStorage writer", category: "analytics", js: `localStorage.getItem('_tracker_uid') !== null`},
		{name: "canvas fingerprint", category: "marketing", js: `window.canvasReads > 0`},
		{name: "web font stylesheet", category: "marketing", fetched: "/webfont.css"},
		{name: "web font file", category: "marketing", fetched: "/webfont.woff2"},
	}
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	beforeLoad(t, ctx, probeCanvas)
	acted := func(i int) bool {
		if tr := trackers[i]; tr.fetched != "" {
			return len(site.fetchedAny(tr.fetched)) > 0
		}
		return eval[bool](t, ctx, trackers[i].js)
	}
	// check waits for the trackers of the granted categories to act, then
	// gives the others time to act wrongly.
	check := func(when string, granted ...string) {
		t.Helper()
		for i, tr := range trackers {
			if slices.Contains(granted, tr.category) {
				site.waitFor(tr.name+" "+when, func() bool { return acted(i) })
			}
		}
		time.Sleep(400 * time.Millisecond)
		for i, tr := range trackers {
			if got, want := acted(i), slices.Contains(granted, tr.category); got != want {
				t.Errorf("%s: %s acted = %v, want %v (%s)", when, tr.name, got, want, tr.category)
			}
		}
	}

	open(t, ctx, site.url("/trackers.html"))
	waitJS(t, ctx, in(".b"))
	check("before a choice")
	if c := cookies(t, ctx, site); len(c) != 0 {
		t.Errorf("cookies before a choice: %v", names(c))
	}
	if n := eval[int](t, ctx, `localStorage.length + sessionStorage.length`); n != 0 {
		t.Errorf("%d storage items before a choice", n)
	}
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector('.webfont')).fontFamily`); contains(got, "Tracker") {
		t.Errorf("font-family before a choice = %q: the web font stylesheet applies", got)
	}

	// Statistics only, in Settings.
	click(t, ctx, in(".bs .s"))
	click(t, ctx, `[...`+in("dialog")+`.querySelectorAll('input')][1]`)
	click(t, ctx, in(".ft .s"))
	checkRecord(t, site.waitRecorded(1)[0], "custom", true, false)
	check("with analytics granted", "analytics")

	// Then everything, from the icon.
	click(t, ctx, in(".i"))
	click(t, ctx, in(".ft .a"))
	checkRecord(t, site.waitRecorded(2)[1], "accept_all", true, true)
	check("with everything granted", "analytics", "marketing")
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector('.webfont')).fontFamily`); got != "Tracker, serif" {
		t.Errorf("font-family after consent = %q, want the web font's rule applied", got)
	}
	if ran := eval[[]string](t, ctx, `window.ran`); !slices.Equal(ran, []string{"storage-writer", "fingerprint"}) {
		t.Errorf("ran %v", ran)
	}
}

// TestPlaceholderContainer checks R44 for content other than an iframe: an
// element with data-crumb-placeholder is covered by a click-to-load
// placeholder naming its provider and category, and its gated children (a
// social plug-in's SDK script, a video) load only when the category is
// granted, from the placeholder's button or from the banner.
func TestPlaceholderContainer(t *testing.T) {
	tests := []struct {
		name   string
		grant  string // what is clicked
		action string // what is recorded
	}{
		{"placeholder button", `document.querySelector('crumb-embed').shadowRoot.querySelector('button')`, "custom"},
		{"Accept all in the banner", in(".bs .a"), "accept_all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newTestSite(t, mustBuild(t), testConfig())
			ctx := browsertest.Tab(t)
			open(t, ctx, site.url("/placeholders.html"))
			waitJS(t, ctx, `document.querySelectorAll('crumb-embed').length === 2`)
			texts := eval[[]string](t, ctx, `[...document.querySelectorAll('crumb-embed')].map(e => e.shadowRoot.textContent)`)
			for i, provider := range []string{"Social Network Ltd", "Video Host Inc."} {
				if !contains(texts[i], provider) || !contains(texts[i], "Marketing") {
					t.Errorf("placeholder %d says %q, want %s and the category", i, texts[i], provider)
				}
			}
			if got := eval[[]string](t, ctx, `['social', 'clip'].map(id => getComputedStyle(document.getElementById(id)).display)`); !slices.Equal(got, []string{"none", "none"}) {
				t.Errorf("covered containers display %v, want none", got)
			}
			if size := eval[[]float64](t, ctx, `(r => [r.width, r.height])(document.querySelector('crumb-embed').getBoundingClientRect())`); size[0] != 400 || size[1] != 200 {
				t.Errorf("the social placeholder is %v px, want its container's 400x200", size)
			}
			time.Sleep(300 * time.Millisecond)
			if hit := site.fetchedAny("/social-sdk.js", "/clip.webm"); len(hit) != 0 {
				t.Errorf("fetched before a choice: %v", hit)
			}

			click(t, ctx, tt.grant)
			checkRecord(t, site.waitRecorded(1)[0], tt.action, tt.action == "accept_all", true)
			waitJS(t, ctx, `window.ran?.includes('social') && document.querySelector('.social-post').dataset.rendered === 'yes'`)
			site.waitFor("the video", func() bool { return len(site.fetchedAny("/clip.webm")) > 0 })
			if got := eval[[]string](t, ctx, `['social', 'clip'].map(id => getComputedStyle(document.getElementById(id)).display)`); !slices.Equal(got, []string{"block", "block"}) {
				t.Errorf("containers display %v after consent, want block", got)
			}
			if n := eval[int](t, ctx, `document.querySelectorAll('crumb-embed').length`); n != 0 {
				t.Errorf("%d placeholders left after consent", n)
			}
		})
	}
}

package widget_test

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/crumbhq/crumb/scanner/browsertest"
	"github.com/crumbhq/crumb/widget"
)

// probeFlash counts the animation frames in which the banner exists, from
// the very start of every document the tab loads.
const probeFlash = `window.bannerFrames = 0;
(function f() {
	if (document.querySelector('crumb-consent')?.shadowRoot?.querySelector('.b')) window.bannerFrames++;
	if (performance.now() < 5000) requestAnimationFrame(f);
})();`

// consentModeJS returns the page's dataLayer as plain arrays.
const consentModeJS = `(window.dataLayer || []).map(e => Array.from(e))`

var (
	cmDefault = []any{"consent", "default", map[string]any{
		"ad_storage": "denied", "ad_user_data": "denied", "ad_personalization": "denied",
		"analytics_storage": "denied", "functionality_storage": "denied", "personalization_storage": "denied",
		"security_storage": "granted", "wait_for_update": float64(500),
	}}
	cookieValue = regexp.MustCompile(`^1\.([A-Za-z0-9_-]*)\.(\d+)\.([a-z0-9_+-]+)\.(\d+)$`)
)

func cmUpdate(analytics, marketing bool) []any {
	v := func(b bool) string {
		if b {
			return "granted"
		}
		return "denied"
	}
	return []any{"consent", "update", map[string]any{
		"ad_storage": v(marketing), "ad_user_data": v(marketing), "ad_personalization": v(marketing), "analytics_storage": v(analytics),
	}}
}

// checkConsentMode compares the page's dataLayer with want exactly (R40).
func checkConsentMode(t *testing.T, ctx context.Context, want ...[]any) {
	t.Helper()
	got := eval[[]any](t, ctx, consentModeJS)
	if len(got) != len(want) {
		t.Fatalf("dataLayer = %v, want %v", got, want)
	}
	for i := range want {
		if !equalJSON(got[i], want[i]) {
			t.Errorf("dataLayer[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func checkRecord(t *testing.T, got consentRequest, action string, analytics, marketing bool) {
	t.Helper()
	want := map[string]bool{"necessary": true, "analytics": analytics, "marketing": marketing}
	if got.Action != action || !maps.Equal(got.Categories, want) {
		t.Errorf("recorded %s %v, want %s %v", got.Action, got.Categories, action, want)
	}
}

func TestRejectAll(t *testing.T) {
	bundle := mustBuild(t)
	cfg := testConfig()
	site := newTestSite(t, bundle, cfg)
	ctx := browsertest.Tab(t)
	beforeLoad(t, ctx, probeFlash)
	open(t, ctx, site.url("/index.html"))
	click(t, ctx, in(".bs .r"))

	rec := site.waitRecorded(1)[0]
	checkRecord(t, rec, "reject_all", false, false)
	if rec.Revision != 1 || rec.Banner != cfg.Banner || rec.Language != "en" || rec.WidgetVersion != bundle.Hash || rec.ConsentID != "" {
		t.Errorf("record = %+v, want revision 1, banner %s, language en, widget_version %s and no consent id yet", rec, cfg.Banner, bundle.Hash)
	}
	waitJS(t, ctx, `!`+in(".b")+` && `+in(".i"))
	c := cookies(t, ctx, site)["crumb_consent"]
	if c == nil {
		t.Fatal("no crumb_consent cookie after Reject all")
	}
	m := cookieValue.FindStringSubmatch(c.Value)
	if m == nil || m[1] == "" || m[2] != "1" || m[3] != "-" {
		t.Errorf("crumb_consent = %q, want 1.<id>.1.-.<time>", c.Value)
	}
	if left := time.Until(time.Unix(int64(c.Expires), 0)); left < 179*24*time.Hour || c.SameSite != "Lax" || c.Path != "/" || c.HTTPOnly {
		t.Errorf("crumb_consent expires in %v, SameSite=%s, Path=%s, HttpOnly=%v; want the validity, Lax, / and readable", left, c.SameSite, c.Path, c.HTTPOnly)
	}
	checkConsentMode(t, ctx, cmDefault, cmUpdate(false, false))

	// A refusal lasts like a consent (R28): no banner, not even for a frame.
	open(t, ctx, site.url("/shop/cart.html"))
	waitJS(t, ctx, in(".i"))
	time.Sleep(300 * time.Millisecond)
	if n := eval[int](t, ctx, `window.bannerFrames`); n != 0 {
		t.Errorf("the banner showed for %d frames after a refusal", n)
	}
	if ran := eval[[]string](t, ctx, `window.ran || []`); len(ran) != 0 {
		t.Errorf("gated scripts ran after Reject all: %v", ran)
	}
	if hit := site.fetchedAny(gated...); len(hit) != 0 {
		t.Errorf("fetched after Reject all: %v", hit)
	}
	checkConsentMode(t, ctx, cmDefault, cmUpdate(false, false))
	if got := len(site.recorded()); got != 1 {
		t.Errorf("%d records, want 1", got)
	}
}

func TestAcceptAllRunsScriptsInDocumentOrder(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	beforeLoad(t, ctx, probeFlash)
	open(t, ctx, site.url("/index.html"))
	click(t, ctx, in(".bs .a"))

	checkRecord(t, site.waitRecorded(1)[0], "accept_all", true, true)
	order := []string{"analytics", "analytics-inline", "marketing", "analytics2"}
	waitJS(t, ctx, `(window.ran || []).length >= 4`)
	if ran := eval[[]string](t, ctx, `window.ran`); !slices.Equal(ran, order) {
		t.Errorf("ran %v, want %v (document order, though analytics.js is slow)", ran, order)
	}
	// The embed and the pixel load; the placeholder goes.
	waitJS(t, ctx, `document.querySelector('iframe').contentDocument?.body?.textContent.includes('Embedded video player')`)
	if got := eval[bool](t, ctx, `!document.querySelector('crumb-embed') && getComputedStyle(document.querySelector('iframe')).display !== 'none'`); !got {
		t.Error("the placeholder stayed after marketing was granted")
	}
	if hit := site.fetchedAny("/pixel.gif"); len(hit) != 1 {
		t.Errorf("pixel fetched %d times, want 1", len(hit))
	}
	checkConsentMode(t, ctx, cmDefault, cmUpdate(true, true))

	// Gated elements added later run as soon as they are added.
	eval[bool](t, ctx, `(() => { const s = document.createElement('script'); s.type = 'text/plain'; s.dataset.crumbCategory = 'analytics'; s.src = '/late.js'; document.body.append(s); return true })()`)
	waitJS(t, ctx, `window.ran.includes('late')`)

	// The next page runs them at once, with no banner.
	open(t, ctx, site.url("/index.html"))
	waitJS(t, ctx, `(window.ran || []).length >= 4`)
	if ran := eval[[]string](t, ctx, `window.ran`); !slices.Equal(ran, order) {
		t.Errorf("after reload ran %v, want %v", ran, order)
	}
	if n := eval[int](t, ctx, `window.bannerFrames`); n != 0 {
		t.Errorf("the banner showed for %d frames for a visitor who had decided", n)
	}
	checkConsentMode(t, ctx, cmDefault, cmUpdate(true, true))
	for _, name := range []string{"_ga", "_ga_ABC123", "_fbp", "crumb_consent"} {
		if cookies(t, ctx, site)[name] == nil {
			t.Errorf("no %s cookie after Accept all", name)
		}
	}
}

func TestIconReopensSettingsWithCurrentState(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	open(t, ctx, site.url("/index.html"))
	click(t, ctx, in(".bs .s"))
	waitJS(t, ctx, in("dialog[open]"))
	states := `[...` + in("dialog") + `.querySelectorAll('input')].map(i => (i.checked ? 'on' : 'off') + (i.disabled ? '/locked' : ''))`
	if got := eval[[]string](t, ctx, states); !slices.Equal(got, []string{"on/locked", "off", "off"}) {
		t.Errorf("first open: toggles %v, want necessary on and locked, the rest off (R14)", got)
	}
	click(t, ctx, `[...`+in("dialog")+`.querySelectorAll('input')][1]`)
	click(t, ctx, in(".ft .s"))
	checkRecord(t, site.waitRecorded(1)[0], "custom", true, false)
	waitJS(t, ctx, `!`+in("dialog")+` && window.ran?.length >= 3`)
	if ran := eval[[]string](t, ctx, `window.ran`); !slices.Equal(ran, []string{"analytics", "analytics-inline", "analytics2"}) {
		t.Errorf("ran %v after saving analytics only", ran)
	}

	open(t, ctx, site.url("/index.html"))
	click(t, ctx, in(".i"))
	waitJS(t, ctx, in("dialog[open]"))
	if got := eval[[]string](t, ctx, states); !slices.Equal(got, []string{"on/locked", "on", "off"}) {
		t.Errorf("reopened: toggles %v, want the saved state", got)
	}
	id := cookieValue.FindStringSubmatch(cookies(t, ctx, site)["crumb_consent"].Value)[1]
	if got := eval[string](t, ctx, in("code")+`.textContent`); got != id || id == "" {
		t.Errorf("settings show consent id %q, the cookie has %q", got, id)
	}
	keys(t, ctx, "\u001b")
	waitJS(t, ctx, `!`+in("dialog"))
	if got := eval[bool](t, ctx, in(".i")+` === document.querySelector('crumb-consent').shadowRoot.activeElement`); !got {
		t.Error("focus did not return to the icon when Settings closed")
	}
	if got := len(site.recorded()); got != 1 {
		t.Errorf("closing Settings recorded something: %d records", got)
	}
}

func TestWithdrawDeletesCookiesAndReloads(t *testing.T) {
	cfg := testConfig()
	cfg.ReloadOnWithdraw = true
	site := newTestSite(t, mustBuild(t), cfg)
	ctx := browsertest.Tab(t)
	open(t, ctx, site.url("/shop/cart.html"))
	click(t, ctx, in(".bs .a"))
	waitJS(t, ctx, `(window.ran || []).length == 2`)
	for _, name := range []string{"_ga", "_ga_ABC123", "_ga_SHOP", "_fbp"} {
		if cookies(t, ctx, site)[name] == nil {
			t.Fatalf("no %s cookie after Accept all: %v", name, names(cookies(t, ctx, site)))
		}
	}
	id := eval[string](t, ctx, `crumb.get().id`)

	// Withdraw analytics: its cookies go (on / and /shop, names and
	// patterns), the page reloads, marketing stays; recorded as withdraw
	// with marketing still granted.
	withdraw := func(toggle string) {
		t.Helper()
		eval[bool](t, ctx, `window.before = true`)
		click(t, ctx, in(".i"))
		click(t, ctx, toggle)
		waitJS(t, ctx, `window.before`)
		click(t, ctx, in(".ft .s"))
		waitJS(t, ctx, `!window.before && document.readyState === 'complete'`) // reloaded
	}
	withdraw(`[...` + in("dialog") + `.querySelectorAll('input')][1]`)
	checkRecord(t, site.waitRecorded(2)[1], "withdraw", false, true)
	if got, want := names(cookies(t, ctx, site)), []string{"_fbp", "crumb_consent"}; !slices.Equal(got, want) {
		t.Errorf("cookies after withdrawing analytics: %v, want %v", got, want)
	}
	waitJS(t, ctx, `(window.ran || []).length >= 1`)
	if ran := eval[[]string](t, ctx, `window.ran`); !slices.Equal(ran, []string{"marketing"}) {
		t.Errorf("after the reload ran %v, want only marketing", ran)
	}
	checkConsentMode(t, ctx, cmDefault, cmUpdate(false, true))

	// Withdraw the rest: recorded as withdraw under the same consent id.
	withdraw(`[...` + in("dialog") + `.querySelectorAll('input')][2]`)
	rec := site.waitRecorded(3)[2]
	checkRecord(t, rec, "withdraw", false, false)
	if rec.ConsentID != id || id == "" {
		t.Errorf("withdrawal recorded under consent id %q, want the visitor's %q", rec.ConsentID, id)
	}
	if got, want := names(cookies(t, ctx, site)), []string{"crumb_consent"}; !slices.Equal(got, want) {
		t.Errorf("cookies after withdrawing everything: %v, want %v", got, want)
	}
	checkConsentMode(t, ctx, cmDefault, cmUpdate(false, false))
}

func TestRevisionRaiseReprompts(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	open(t, ctx, site.url("/index.html"))
	click(t, ctx, in(".bs .a"))
	first := site.waitRecorded(1)[0]
	open(t, ctx, site.url("/index.html"))
	waitJS(t, ctx, in(".i"))

	site.set(func(cfg *widget.Config) { cfg.Revision = 2 })
	open(t, ctx, site.url("/index.html"))
	waitJS(t, ctx, in(".b"))
	time.Sleep(200 * time.Millisecond)
	if ran := eval[[]string](t, ctx, `window.ran || []`); len(ran) != 0 {
		t.Errorf("scripts ran on consent to an older revision: %v", ran)
	}
	checkConsentMode(t, ctx, cmDefault)
	click(t, ctx, in(".bs .r"))
	second := site.waitRecorded(2)[1]
	checkRecord(t, second, "reject_all", false, false)
	firstID := eval[string](t, ctx, `crumb.get().id`)
	if second.Revision != 2 || second.ConsentID != firstID || firstID == "" || first.Revision != 1 {
		t.Errorf("re-prompt recorded revision %d under %q, want revision 2 under the visitor's id %q", second.Revision, second.ConsentID, firstID)
	}
	// What the older consent let in goes with the refusal, as far as this
	// page reaches: _ga_SHOP lives on /shop.
	if got := names(cookies(t, ctx, site)); !slices.Equal(got, []string{"_ga_SHOP", "crumb_consent"}) {
		t.Errorf("cookies after refusing the new revision: %v", got)
	}
}

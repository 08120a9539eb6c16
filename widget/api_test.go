package widget_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/crumbhq/crumb/scanner/browsertest"
	"github.com/crumbhq/crumb/widget"
)

func TestAPIUnreachableRetriesOnNextPage(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	site.setDown(true)
	open(t, ctx, site.url("/index.html"))
	click(t, ctx, in(".bs .a"))

	// The site keeps working: the choice applies and is kept locally.
	waitJS(t, ctx, `window.ran?.length >= 4`)
	if v := cookies(t, ctx, site)["crumb_consent"]; v == nil || !cookieValue.MatchString(v.Value) || cookieValue.FindStringSubmatch(v.Value)[3] != "analytics+marketing" {
		t.Fatalf("crumb_consent = %v, want the choice kept while the API is down", v)
	}
	pending := eval[[]map[string]any](t, ctx, `JSON.parse(localStorage.getItem('crumb_pending'))`)
	if len(pending) != 1 || pending[0]["action"] != "accept_all" {
		t.Fatalf("crumb_pending = %v, want the one unsent decision", pending)
	}

	site.setDown(false)
	open(t, ctx, site.url("/shop/cart.html"))
	rec := site.waitRecorded(1)[0]
	if rec.EventID != pending[0]["event_id"] {
		t.Errorf("retried with event_id %s, want the original %s", rec.EventID, pending[0]["event_id"])
	}
	checkRecord(t, rec, "accept_all", true, true)
	waitJS(t, ctx, `localStorage.getItem('crumb_pending') === null`)
	if id := cookieValue.FindStringSubmatch(cookies(t, ctx, site)["crumb_consent"].Value)[1]; id == "" {
		t.Error("the consent cookie has no consent id after the retry")
	}
	if eval[bool](t, ctx, `!!`+in(".b")) {
		t.Error("the banner showed again although the choice was kept")
	}
}

func TestCrossOriginAPI(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	api := site.crossOrigin()
	site.set(func(cfg *widget.Config) { cfg.API, cfg.IconPosition = api, "bottom-right" })
	ctx := browsertest.Tab(t)
	open(t, ctx, site.url("/index.html"))
	if text := eval[string](t, ctx, in(".b")+`.textContent`); !contains(text, "lower-right corner") {
		t.Errorf("withdraw sentence does not point at the lower-right icon: %s", text)
	}
	click(t, ctx, in(".bs .r"))
	checkRecord(t, site.waitRecorded(1)[0], "reject_all", false, false)
	// No server can set a cookie for the page here: the banner writes the
	// consent id into its own cookie once the API answers.
	waitJS(t, ctx, `/crumb_consent=1\.[\w-]+\.1\.-\.\d+/.test(document.cookie)`)
	site.waitFor("an impression through the cross-origin API", func() bool { return site.impressionCount() == 1 })
	waitJS(t, ctx, in(".i"))
	if right := eval[float64](t, ctx, `innerWidth - `+in(".i")+`.getBoundingClientRect().right`); right < 0 || right > 32 {
		t.Errorf("icon is %v px from the right edge, want it in the lower-right corner", right)
	}
}

func TestExportAndErase(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	open(t, ctx, site.url("/index.html"))
	click(t, ctx, in(".bs .a"))
	site.waitRecorded(1)
	waitJS(t, ctx, `window.ran?.length >= 4 && crumb.get().id`)
	id := eval[string](t, ctx, `crumb.get().id`)

	// Export downloads the visitor's history from the API.
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
	}); err != nil {
		t.Fatal(err)
	}
	click(t, ctx, in(".i"))
	click(t, ctx, in(".id a"))
	var export struct {
		ConsentID string           `json:"consent_id"`
		Records   []map[string]any `json:"records"`
	}
	site.waitFor("the export download", func() bool {
		data, err := os.ReadFile(filepath.Join(dir, "consent.json"))
		return err == nil && json.Unmarshal(data, &export) == nil
	})
	if export.ConsentID != id || len(export.Records) != 1 {
		t.Errorf("downloaded %+v, want the one record of %s", export, id)
	}

	click(t, ctx, in(".id button")) // erase
	waitJS(t, ctx, in(".id [role=status]")+`?.textContent === 'Your consent record has been erased.'`)
	site.mu.Lock()
	erased := slices.Clone(site.erasures)
	site.mu.Unlock()
	if !slices.Equal(erased, []string{id}) {
		t.Errorf("erased %v, want [%s]", erased, id)
	}
	// The choice is forgotten here too: cookies of what was granted, and
	// crumb's own, are gone; closing Settings brings the banner back.
	if got := names(cookies(t, ctx, site)); !slices.Equal(got, []string{"_ga_SHOP"}) {
		t.Errorf("cookies after erasing: %v, want only the out-of-reach _ga_SHOP", got)
	}
	click(t, ctx, in(".x"))
	waitJS(t, ctx, in(".b"))
	if s := eval[map[string]any](t, ctx, `crumb.get()`); s["decided"] != false || s["id"] != nil {
		t.Errorf("state after erasing = %v", s)
	}
}

func TestJavaScriptAPI(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	open(t, ctx, site.url("/index.html"))
	if s := eval[map[string]any](t, ctx, `crumb.get()`); s["decided"] != false || !equalJSON(s["categories"], map[string]bool{"necessary": true, "analytics": false, "marketing": false}) {
		t.Errorf("crumb.get() before a choice = %v", s)
	}
	eval[bool](t, ctx, `window.changes = []; window.events = [];
		crumb.onChange(s => changes.push(s.categories));
		document.addEventListener('crumb:consent', e => events.push(e.detail.categories));
		true`)
	// A grant through the API needs the visitor's gesture: the page calls
	// it from its own button's click handler.
	click(t, ctx, pageButton(t, ctx, `crumb.acceptAll()`))
	waitJS(t, ctx, `changes.length === 1 && events.length === 1`)
	if got := eval[map[string]bool](t, ctx, `changes[0]`); !got["analytics"] || !got["marketing"] {
		t.Errorf("onChange got %v after crumb.acceptAll()", got)
	}
	eval[bool](t, ctx, `crumb.show(), true`)
	waitJS(t, ctx, in("dialog[open]"))
	eval[bool](t, ctx, `crumb.rejectAll(), true`)
	waitJS(t, ctx, `!`+in("dialog")+` && changes.length === 2`)
	recs := site.waitRecorded(2)
	checkRecord(t, recs[0], "accept_all", true, true)
	checkRecord(t, recs[1], "withdraw", false, false)
}

package widget_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/crumbhq/crumb/widget"
)

// testConfig is a site with the three built-in categories and their cookie
// tables, in English and Swedish.
func testConfig() widget.Config {
	cfg := widget.Config{
		Site: "test", Name: "Fixture AB", Banner: "0123456789abcdef0123456789abcdef",
		Revision: 1, Validity: 180 * 24 * 3600, PrivacyPolicyURL: "/privacy",
		Languages: []string{"en", "sv"}, Texts: map[string]map[string]string{},
		Theme: widget.Theme{}.Resolved(), GPC: []string{"marketing"}, IconPosition: "bottom-left",
	}
	for _, lang := range cfg.Languages {
		cfg.Texts[lang], _ = widget.DefaultTexts(lang)
	}
	by := func(key string) map[string]string {
		return map[string]string{"en": cfg.Texts["en"][key], "sv": cfg.Texts["sv"][key]}
	}
	both := func(en, sv string) map[string]string { return map[string]string{"en": en, "sv": sv} }
	for _, id := range []string{"necessary", "analytics", "marketing"} {
		c := widget.Category{ID: id, Locked: id == "necessary", Name: by("category_" + id + "_name"), Description: by("category_" + id + "_desc")}
		switch id {
		case "necessary":
			c.Cookies = []widget.Cookie{{Name: "crumb_consent", Provider: "Fixture AB", Party: "first", Purpose: both("Stores your cookie choice.", "Sparar ditt val om kakor."), Expiry: both("6 months", "6 månader")}}
		case "analytics":
			c.Cookies = []widget.Cookie{
				{Name: "_ga", Provider: "Google LLC", Party: "first", Purpose: both("Tells visitors apart.", "Skiljer besökare åt."), Expiry: both("2 years", "2 år")},
				{Name: "_ga_*", Pattern: true, Provider: "Google LLC", Party: "first", Purpose: both("Keeps session state.", "Sparar sessionens status."), Expiry: both("2 years", "2 år")},
			}
		case "marketing":
			c.Cookies = []widget.Cookie{
				{Name: "_fbp", Provider: "Meta Platforms Ireland Ltd.", Party: "first", Purpose: both("Measures ads.", "Mäter annonser."), Expiry: both("3 months", "3 månader")},
				{Name: "IDE", Provider: "Google LLC", Party: "third", Domain: ".doubleclick.net", Purpose: both("Targets ads.", "Riktar annonser."), Expiry: both("13 months", "13 månader")},
			}
		}
		cfg.Categories = append(cfg.Categories, c)
	}
	return cfg
}

// mustBuild builds the bundle or fails the test.
func mustBuild(tb testing.TB) *widget.Bundle {
	tb.Helper()
	b, err := widget.Build()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// in is a JavaScript expression for the element matching sel inside the
// banner's shadow root (null when absent).
func in(sel string) string {
	return `document.querySelector('crumb-consent')?.shadowRoot?.querySelector(` + quote(sel) + `)`
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// eval evaluates expr in the page and decodes its value.
func eval[T any](tb testing.TB, ctx context.Context, expr string) T {
	tb.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS waits until expr is truthy, across navigations.
func waitJS(tb testing.TB, ctx context.Context, expr string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// do runs actions or fails the test.
func do(tb testing.TB, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.Fatal(err)
	}
}

// open navigates to url and waits for the page's load event.
func open(tb testing.TB, ctx context.Context, url string) {
	tb.Helper()
	do(tb, ctx, chromedp.Navigate(url))
	waitJS(tb, ctx, `document.readyState === 'complete'`)
}

// click clicks the middle of the element el (a JavaScript expression) with
// the mouse, as a visitor would: it fails when the element is hidden,
// covered or outside the viewport.
func click(tb testing.TB, ctx context.Context, el string) {
	tb.Helper()
	waitJS(tb, ctx, el)
	r := eval[[]float64](tb, ctx, `(() => { (`+el+`).scrollIntoView({block: 'nearest'}); const r = (`+el+`).getBoundingClientRect(); return [r.x + r.width/2, r.y + r.height/2, r.width, r.height] })()`)
	if r[2] < 1 || r[3] < 1 {
		tb.Fatalf("%s is %vx%v px: not visible", el, r[2], r[3])
	}
	hit := eval[bool](tb, ctx, `(() => { let e = document.elementFromPoint(`+ftoa(r[0])+`, `+ftoa(r[1])+`); while (e?.shadowRoot) { const d = e.shadowRoot.elementFromPoint(`+ftoa(r[0])+`, `+ftoa(r[1])+`); if (!d || d === e) break; e = d } return (`+el+`).contains(e) })()`)
	if !hit {
		tb.Fatalf("%s is covered by another element", el)
	}
	do(tb, ctx, chromedp.MouseClickXY(r[0], r[1]))
}

func ftoa(f float64) string { b, _ := json.Marshal(f); return string(b) }

// keys sends key presses (kb constants or text) to the focused element.
func keys(tb testing.TB, ctx context.Context, k string, opts ...chromedp.KeyOption) {
	tb.Helper()
	do(tb, ctx, chromedp.KeyEvent(k, opts...))
}

// cookies returns the names of every cookie the browser holds for the
// site, sorted.
func cookies(tb testing.TB, ctx context.Context, s *testSite) map[string]*network.Cookie {
	tb.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.url("/"), s.url("/shop/cart.html")}})
	if err != nil {
		tb.Fatal(err)
	}
	m := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		m[c.Name] = c
	}
	return m
}

func names[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// beforeLoad runs script in every document the tab opens, before its own
// scripts.
func beforeLoad(tb testing.TB, ctx context.Context, script string) {
	tb.Helper()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script}); err != nil {
		tb.Fatal(err)
	}
}

// screenshot writes the viewport as a PNG to testdata/screenshots for
// review; the folder is not committed.
func screenshot(tb testing.TB, ctx context.Context, name string) {
	tb.Helper()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join("testdata", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".png"), buf, 0o644); err != nil {
		tb.Fatal(err)
	}
}

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// shadow is a JavaScript expression for the element matching sel in the
// banner's shadow root.
func shadow(sel string) string {
	q, _ := json.Marshal(sel)
	return `document.querySelector('crumb-consent')?.shadowRoot?.querySelector(` + string(q) + `)`
}

func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS waits until expr is truthy, across navigations.
func waitJS(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func open(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.readyState === 'complete'`)
}

// clickJS clicks the middle of an element with the mouse.
func clickJS(t *testing.T, ctx context.Context, el string) {
	t.Helper()
	waitJS(t, ctx, el)
	r := evalJS[[]float64](t, ctx, `(e => { e.scrollIntoView({block: 'nearest'}); const r = e.getBoundingClientRect(); return [r.x + r.width/2, r.y + r.height/2] })(`+el+`)`)
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(r[0], r[1])); err != nil {
		t.Fatal(err)
	}
}

// screenshotTo writes the viewport for review next to the widget's own
// screenshots (not committed).
func screenshotTo(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	time.Sleep(400 * time.Millisecond) // let the banner's slide-in finish
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "widget", "testdata", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err == nil {
		os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	}
}

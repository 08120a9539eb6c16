package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/schedule"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/consentapi/webhook"
	"github.com/crumbhq/crumb/scanner/crawl/crawltest"
)

// shopFixture is a one-page shop that sets a session cookie, and from the
// moment marketing is switched on, Meta's _fbp from a script as well.
type shopFixture struct{ marketing atomic.Bool }

func (f *shopFixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "PHPSESSID", Value: "e2e0123456789", Path: "/", HttpOnly: true, Secure: true})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	script := ""
	if f.marketing.Load() {
		script = `<script>document.cookie = "_fbp=fb.1.1795000000000.123456789; path=/; max-age=7776000";</script>`
	}
	fmt.Fprintf(w, "<!doctype html><html><head><title>Shop</title>%s</head><body><h1>Shop</h1></body></html>", script)
}

// hookLog is the site owner's webhook endpoint.
type hookLog struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	events []struct {
		webhook.Event
		Data schedule.ScanEvent `json:"data"`
	}
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(h.secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
		h.t.Errorf("webhook: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, struct {
		webhook.Event
		Data schedule.ScanEvent `json:"data"`
	}{})
	if err := json.Unmarshal(body, &h.events[len(h.events)-1]); err != nil {
		h.t.Errorf("webhook body: %v", err)
	}
	w.WriteHeader(http.StatusNoContent)
}

// scansOf reads the site's scan list through the admin API.
func scansOf(t *testing.T, base, token, site string) []store.ScanRun {
	t.Helper()
	code, body := get(t, base+"/v1/admin/sites/"+site+"/scans", token)
	if code != 200 {
		t.Fatalf("list scans: %d %s", code, body)
	}
	var out struct{ Scans []store.ScanRun }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Scans
}

// scanNow asks for a scan and waits until the site has n scans.
func scanNow(t *testing.T, s *served, token string, n int) store.ScanRun {
	t.Helper()
	req, _ := http.NewRequest("POST", s.base+"/v1/admin/sites/shop/scans", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("scan now: %v %v", resp, err)
	}
	resp.Body.Close()
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if runs := scansOf(t, s.base, token, "shop"); len(runs) == n {
			return runs[0]
		}
	}
	t.Fatalf("scan %d did not finish within 3 minutes\n%s", n, s.stderr)
	return store.ScanRun{}
}

// TestScanE2E: crumb serve with an in-process worker scans a fixture shop
// in headless Chromium twice; in between the shop starts setting Meta's
// _fbp. The owner's webhook receives one signed event for that change, the
// site's revision goes up, and the banner in crumb.js and the cookie
// declaration show the new cookie.
func TestScanE2E(t *testing.T) {
	fixture := &shopFixture{}
	site, err := crawltest.Start(fixture, "shop.crumb.test")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	hooks := &hookLog{t: t, secret: []byte("e2e-webhook-secret-0123")}
	hookSrv := httptest.NewServer(hooks)
	defer hookSrv.Close()

	dir := t.TempDir()
	cfg := filepath.Join(dir, "crumb.yaml")
	err = os.WriteFile(cfg, []byte(`sites:
  - id: shop
    name: Shop AB
    origins: [https://shop.crumb.test]
    privacy_policy_url: https://shop.crumb.test/privacy
    scan:
      schedule: "off"
      max_pages: 2
      modes: [none]
      webhook: {url: `+hookSrv.URL+`/hook, secret_env: SHOP_HOOK_SECRET}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	const token = "e2e-admin-token-02"
	s := startServe(t, map[string]string{
		"CRUMB_ADMIN_TOKEN": token, "SHOP_HOOK_SECRET": string(hooks.secret),
		"CRUMB_CHROMIUM_FLAGS": strings.Join(site.Flags, " "),
	}, "-config", cfg, "-data-dir", filepath.Join(dir, "data"), "-workers", "1")

	first := scanNow(t, s, token, 1)
	if first.Items == 0 || first.RevisionRaised {
		t.Fatalf("first scan = %+v; want items and no raise", first)
	}
	fixture.marketing.Store(true)
	second := scanNow(t, s, token, 2)
	if !second.RevisionRaised || second.Revision != 2 || second.Previous != first.ID {
		t.Errorf("second scan = %+v; want revision raised to 2 after %s", second, first.ID)
	}
	if second.Diff == nil || len(second.Diff.NewCategories) != 1 || second.Diff.NewCategories[0] != "marketing" {
		t.Errorf("second scan's diff = %+v; want marketing new", second.Diff)
	}

	// The scan is listed once stored; the worker then raises the revision,
	// rebuilds the banner and sends the webhook: wait for those.
	var events, widening int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		hooks.mu.Lock()
		events, widening = len(hooks.events), 0
		for _, ev := range hooks.events {
			if ev.ID == second.ID+":scan.completed" && ev.Data.Scan.RevisionRaised {
				widening++
			}
		}
		hooks.mu.Unlock()
		if events >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if widening != 1 || events != 2 {
		t.Errorf("webhook events = %d, %d for the widening scan; want 2 in all, 1 for it", events, widening)
	}

	// crumb.js inlines the banner config as a JavaScript string literal.
	code, js := get(t, s.base+"/v1/sites/shop/crumb.js", "")
	if code != 200 || !strings.Contains(js, `\"name\":\"_fbp\"`) || !strings.Contains(js, `\"revision\":2,`) {
		t.Errorf("crumb.js: %d; want the _fbp row at revision 2\n%s", code, s.stderr)
	}
	if code, decl := get(t, s.base+"/v1/sites/shop/declaration?format=md&lang=en", ""); code != 200 || !strings.Contains(decl, "_fbp") {
		t.Errorf("declaration: %d %s", code, decl)
	}
}

package consentapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/jobqueue/localqueue"
	"github.com/crumbhq/crumb/consentapi/schedule"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/consentapi/webhook"
	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/widget"
)

var bearer = map[string]string{"Authorization": "Bearer " + adminToken}

func scanItem(name string, cat scanner.Category, provider string) scanner.Item {
	it := scanner.Item{Kind: scanner.Cookie, Name: name, Domain: ".shop.example", Party: scanner.FirstParty, SetVia: "http",
		Session: true, SeenIn: []string{scanner.ModeAcceptAll}}
	if cat != "" {
		it.Classification = &scanner.Classification{Category: cat, Provider: provider, Purpose: map[string]string{"sv": "Syfte", "en": "Purpose"}}
	}
	return it
}

func putScan(t *testing.T, st store.ScanStore, id string, at time.Time, prev string, items ...scanner.Item) {
	t.Helper()
	rep := &scanner.Report{SchemaVersion: scanner.SchemaVersion, Site: "https://shop.example/", FinishedAt: at, Items: items}
	if _, _, err := st.PutScan(context.Background(), store.ScanRun{ID: id, Site: "shop", FinishedAt: at, Previous: prev, Items: len(items), Report: rep}, 10); err != nil {
		t.Fatal(err)
	}
}

func cookiesOf(b widget.Config, cat string) []string {
	var out []string
	for _, c := range b.Categories {
		if c.ID == cat {
			for _, k := range c.Cookies {
				out = append(out, k.Name)
			}
		}
	}
	return out
}

func TestScanAdmin(t *testing.T) {
	q, err := localqueue.Open(filepath.Join(t.TempDir(), "jobs.db"), jobqueue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	e := newEnv(t, func(o *consentapi.Options) { o.Scans.Enqueue = q.Enqueue })
	ctx := context.Background()
	base := "/v1/admin/sites/shop"

	// Nothing scanned yet.
	if rec := e.do(t, request{method: "GET", path: base + "/scans", header: bearer}); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"scans":[]`) {
		t.Errorf("empty list: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do(t, request{method: "GET", path: base + "/scans/latest", header: bearer}); rec.Code != 404 {
		t.Errorf("latest with none: %d %s", rec.Code, rec.Body)
	}

	// Run a scan now: a job with the site's settings is queued.
	rec := e.do(t, request{method: "POST", path: base + "/scans", header: bearer})
	if rec.Code != http.StatusAccepted {
		t.Fatalf("start scan: %d %s", rec.Code, rec.Body)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	d, err := q.Receive(rctx, "test")
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	settings, err := schedule.DecodeSettings(d.Job.Data)
	if err != nil || d.Job.Site != "shop" || d.Job.Reason != jobqueue.ReasonManual || settings.StartURLs[0] != "https://shop.example/" {
		t.Errorf("queued job = %+v, settings %+v, %v", d.Job, settings, err)
	}
	if !strings.Contains(rec.Body.String(), d.Job.ID) {
		t.Errorf("answer %s does not name job %s", rec.Body, d.Job.ID)
	}

	// Two scans in the store: the second adds a marketing cookie and an
	// unclassified one.
	t0 := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	putScan(t, e.store, "shop@1", t0, "", scanItem("_ga", scanner.Analytics, "Google"))
	putScan(t, e.store, "shop@2", t0.Add(time.Hour), "shop@1",
		scanItem("_ga", scanner.Analytics, "Google"), scanItem("_fbp", scanner.Marketing, "Meta"), scanItem("zq_tag", scanner.Unclassified, ""))
	for _, tt := range []struct {
		path, want string
		code       int
	}{
		{"/scans", `"id":"shop@2"`, 200},
		{"/scans/latest", `"name":"_fbp"`, 200},
		{"/scans/shop@1", `"name":"_ga"`, 200},
		{"/scans/shop@2/diff", `"new_categories":["marketing"]`, 200},
		{"/scans/shop@1/diff?from=shop@2", `"removed":[{"kind":"cookie","name":"_fbp"`, 200},
		{"/scans/shop@1/diff", "first kept scan", 404},
		{"/scans/nope", "no kept scan", 404},
		{"/scans/shop@2/diff?from=nope", "no kept scan", 404},
	} {
		rec := e.do(t, request{method: "GET", path: base + tt.path, header: bearer})
		if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("GET %s = %d %.300s; want %d with %s", tt.path, rec.Code, rec.Body, tt.code, tt.want)
		}
	}
	if rec := e.do(t, request{method: "GET", path: base + "/scans"}); rec.Code != 401 {
		t.Errorf("scans without the token: %d", rec.Code)
	}

	// The banner lists what the latest scan found, beside the configured rows.
	if err := e.srv.Refresh(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	b, _ := e.srv.Banner("shop")
	if got := strings.Join(cookiesOf(b, "marketing"), ","); got != "_fbp" {
		t.Errorf("marketing table = %s, want _fbp from the scan", got)
	}
	if got := strings.Join(cookiesOf(b, "analytics"), ","); got != "_ga" {
		t.Errorf("analytics table = %s, want the configured _ga once", got)
	}

	// Overrides: bad ones are refused with the field named.
	for _, tt := range []struct{ body, field string }{
		{`{"name":"zq_*","category":"tracking"}`, "category"},
		{`{"name":"zq_*","category":"necessary"}`, "justification"},
		{`{"name":"","category":"marketing"}`, "name"},
		{`{"name":"zq_*","category":"marketing","kind":"flash"}`, "kind"},
		{`{"name":"zq_*","category":"marketing","purpose":{"de":"x"}}`, "purpose"},
		{`{"name":"zq_*","category":"marketing","colour":"red"}`, "colour"},
	} {
		rec := e.do(t, request{method: "PUT", path: base + "/overrides", body: tt.body, header: bearer})
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"field":"`+tt.field+`"`) {
			t.Errorf("PUT %s = %d %s; want 400 naming %s", tt.body, rec.Code, rec.Body, tt.field)
		}
	}
	// A good one moves the unclassified item into marketing in the banner.
	rec = e.do(t, request{method: "PUT", path: base + "/overrides", header: bearer,
		body: `{"name":"zq_*","category":"marketing","provider":"Zq Ads","purpose":{"sv":"Annonser","en":"Ads"}}`})
	if rec.Code != 200 {
		t.Fatalf("PUT override: %d %s", rec.Code, rec.Body)
	}
	b, _ = e.srv.Banner("shop")
	if got := strings.Join(cookiesOf(b, "marketing"), ","); got != "_fbp,zq_tag" {
		t.Errorf("marketing table after the override = %s, want _fbp,zq_tag", got)
	}
	if rec := e.do(t, request{method: "GET", path: base + "/overrides", header: bearer}); !strings.Contains(rec.Body.String(), `"provider":"Zq Ads"`) {
		t.Errorf("GET overrides: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do(t, request{method: "DELETE", path: base + "/overrides?name=zq_*", header: bearer}); rec.Code != 204 {
		t.Errorf("DELETE override: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do(t, request{method: "DELETE", path: base + "/overrides?name=zq_*", header: bearer}); rec.Code != 404 || strings.Contains(rec.Body.String(), "|") {
		t.Errorf("DELETE a deleted override: %d %s, want 404 naming the override, not its storage key", rec.Code, rec.Body)
	}
	b, _ = e.srv.Banner("shop")
	if got := strings.Join(cookiesOf(b, "marketing"), ","); got != "_fbp" {
		t.Errorf("marketing table after deleting the override = %s, want _fbp", got)
	}
}

// TestScanStartWithoutWorkers: without scan workers (the embedded store,
// no -workers) starting a scan is a 409 naming the settings that turn
// scans on: no Retry-After (waiting does not help) and not counted as a
// store outage.
func TestScanStartWithoutWorkers(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		path   string
		status int
		want   string // in the error
	}{
		{"no workers", "/v1/admin/sites/shop/scans", http.StatusConflict, "-workers"},
		{"unknown site", "/v1/admin/sites/nope/scans", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(t, request{method: "POST", path: tt.path, header: bearer})
			wantStatus(t, rec, tt.status)
			if msg, _ := errorOf(t, rec); !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not mention %q", msg, tt.want)
			}
			if got := rec.Header().Get("Retry-After"); got != "" {
				t.Errorf("Retry-After %q", got)
			}
			if n := storeErrors(t, e); n != 0 {
				t.Errorf("crumb_store_errors_total=%v, want 0", n)
			}
		})
	}
}

func TestDeclaration(t *testing.T) {
	e := newEnv(t)
	path := "/v1/sites/shop/declaration"
	// Before any scan: the configured tables, saying they are unchecked.
	rec := e.do(t, request{method: "GET", path: path + "?format=md&lang=en"})
	if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, "| `_ga` |") || !strings.Contains(body, "Counts visits") || !strings.Contains(body, "not yet been checked by a scan") {
		t.Errorf("declaration before any scan: %d\n%s\nwant the configured _ga, said to be unchecked", rec.Code, body)
	}
	t0 := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	putScan(t, e.store, "shop@1", t0, "", scanItem("_ga", scanner.Analytics, "Google"))
	putScan(t, e.store, "shop@2", t0.Add(time.Hour), "shop@1", scanItem("_ga", scanner.Analytics, "Google"), scanItem("_fbp", scanner.Marketing, "Meta"))
	for _, tt := range []struct {
		query, ctype, want string
		code               int
	}{
		{"", "text/html", "_fbp", 200},
		{"?format=md&lang=en", "text/markdown", "_fbp", 200},
		{"?format=pdf", "application/json", `"field":"format"`, 400},
		{"?lang=de", "application/json", `"field":"lang"`, 400},
	} {
		rec := e.do(t, request{method: "GET", path: path + tt.query, origin: "https://shop.example"})
		if rec.Code != tt.code || !strings.HasPrefix(rec.Header().Get("Content-Type"), tt.ctype) || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("GET declaration%s = %d %s %.200s; want %d %s with %q", tt.query, rec.Code, rec.Header().Get("Content-Type"), rec.Body, tt.code, tt.ctype, tt.want)
		}
	}
	// After: the configured row stands as written, the scan adds _fbp, and
	// _ga is listed once.
	rec = e.do(t, request{method: "GET", path: path + "?format=md&lang=en"})
	body := rec.Body.String()
	if rec.Code != 200 || strings.Count(body, "| `_ga` |") != 1 || !strings.Contains(body, "Counts visits") || !strings.Contains(body, "| `_fbp` |") || strings.Contains(body, "not yet been checked") {
		t.Errorf("declaration after a scan: %d\n%s\nwant _ga once as configured, and _fbp", rec.Code, body)
	}
	if rec := e.do(t, request{method: "GET", path: path, origin: "https://evil.example"}); rec.Code != 403 {
		t.Errorf("declaration from a foreign origin: %d", rec.Code)
	}
}

// TestBannerSharedRows: a first-party cookie written by a third party's
// script is shown in the banner as read by its provider (R16).
func TestBannerSharedRows(t *testing.T) {
	e := newEnv(t)
	fbp := scanItem("_fbp", scanner.Marketing, "Meta")
	fbp.SetVia, fbp.SetBy = "script", "https://connect.facebook.net/en_US/fbevents.js"
	own := scanItem("cart", scanner.Marketing, "Shop AB")
	own.SetVia, own.SetBy = "script", "https://www.shop.example/app.js"
	rep := &scanner.Report{SchemaVersion: scanner.SchemaVersion, Site: "https://shop.example/", SiteDomain: "shop.example", FinishedAt: time.Now(), Items: []scanner.Item{fbp, own}}
	if _, _, err := e.store.PutScan(context.Background(), store.ScanRun{ID: "shop@1", Site: "shop", FinishedAt: rep.FinishedAt, Items: 2, Report: rep}, 10); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Refresh(context.Background(), "shop"); err != nil {
		t.Fatal(err)
	}
	b, _ := e.srv.Banner("shop")
	party := map[string]string{}
	for _, c := range b.Categories {
		for _, k := range c.Cookies {
			party[k.Name] = k.Party
		}
	}
	if party["_fbp"] != "shared" || party["cart"] != "first" {
		t.Errorf("parties %v; want _fbp shared (Meta's script wrote it), cart first", party)
	}
}

// TestDeclarationSharedConfigRow: a configured row with party: shared is
// declared as first party, read by its provider.
func TestDeclarationSharedConfigRow(t *testing.T) {
	e := newEnv(t, func(o *consentapi.Options) {
		for i := range o.Sites.Sites {
			s := &o.Sites.Sites[i]
			if s.ID == "shop" {
				s.Categories[1].Cookies[0].Party = "shared"
				s.Categories[1].Cookies[0].Provider = "Google Analytics"
			}
		}
	})
	body := e.do(t, request{method: "GET", path: "/v1/sites/shop/declaration?format=md&lang=en"}).Body.String()
	if !strings.Contains(body, "| `_ga` | Google Analytics |") || !strings.Contains(body, "First party, read by Google Analytics |") {
		t.Errorf("declaration:\n%s\nwant _ga as first party, read by Google Analytics", body)
	}
}

// TestDeclarationSiteCategory: a category the site defined is headed by
// the name and description the site gave it, as in its banner.
func TestDeclarationSiteCategory(t *testing.T) {
	e := newEnv(t)
	it := scanItem("lang", "preferences", "Blog")
	it.Domain = ".blog.example"
	rep := &scanner.Report{SchemaVersion: scanner.SchemaVersion, Site: "https://blog.example/", FinishedAt: time.Now(), Items: []scanner.Item{it}}
	if _, _, err := e.store.PutScan(context.Background(), store.ScanRun{ID: "blog@1", Site: "blog", FinishedAt: rep.FinishedAt, Items: 1, Report: rep}, 10); err != nil {
		t.Fatal(err)
	}
	rec := e.do(t, request{method: "GET", path: "/v1/sites/blog/declaration?format=md"})
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, "### Preferences") || !strings.Contains(body, "Remember settings such as the language you chose.") {
		t.Errorf("declaration = %d:\n%s\nwant the site's own category headed by its name and description", rec.Code, body)
	}
}

// TestScanWidensBanner: the site gains a marketing cookie between two
// scans. The owner's webhook receives one signed event for that scan, the
// revision goes up, and the banner (the config inlined into crumb.js)
// lists the new cookie under marketing at the new revision.
func TestScanWidensBanner(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret := []byte("a-secret-of-sixteen+")
	var (
		mu     sync.Mutex
		events []webhook.Event
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
			t.Errorf("webhook signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev webhook.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Error(err)
		}
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	res := &schedule.Results{
		Store: e.store,
		Site: func(_ context.Context, id string) (schedule.SiteResults, bool) {
			return schedule.SiteResults{Revision: 1, RaiseRevision: true, WebhookURL: hook.URL, WebhookSecret: secret}, id == "shop"
		},
		Webhook: webhook.NewSender(prometheus.NewRegistry(), nil),
		Changed: func(ctx context.Context, site string) {
			if err := e.srv.Refresh(ctx, site); err != nil {
				t.Error(err)
			}
		},
	}
	before, _ := e.srv.Banner("shop")
	t0 := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	rep := func(at time.Time, items ...scanner.Item) *scanner.Report {
		return &scanner.Report{SchemaVersion: scanner.SchemaVersion, Site: "https://shop.example/", FinishedAt: at, Items: items}
	}
	ga := scanItem("_ga", scanner.Analytics, "Google")
	if err := res.Done(ctx, jobqueue.Job{ID: "shop@1", Site: "shop"}, rep(t0, ga)); err != nil {
		t.Fatal(err)
	}
	baseline, _ := e.srv.Banner("shop")
	if baseline.Revision != before.Revision {
		t.Fatalf("the baseline scan raised the revision %d → %d", before.Revision, baseline.Revision)
	}
	if err := res.Done(ctx, jobqueue.Job{ID: "shop@2", Site: "shop"}, rep(t0.Add(time.Hour), ga, scanItem("_fbp", scanner.Marketing, "Meta"))); err != nil {
		t.Fatal(err)
	}
	after, _ := e.srv.Banner("shop")
	if after.Revision != baseline.Revision+1 {
		t.Errorf("revision after a new marketing cookie = %d, want %d", after.Revision, baseline.Revision+1)
	}
	if got := strings.Join(cookiesOf(after, "marketing"), ","); got != "_fbp" {
		t.Errorf("banner marketing table = %q, want _fbp", got)
	}
	if after.Banner == baseline.Banner {
		t.Error("banner hash unchanged: records would point at a banner without the new cookie")
	}
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for _, ev := range events {
		if ev.ID == "shop@2:scan.completed" {
			n++
		}
	}
	if n != 1 || len(events) != 2 {
		t.Errorf("events = %+v; want one for the widening scan (and one for the baseline)", events)
	}
}

func TestScanSettingsAPI(t *testing.T) {
	q, err := localqueue.Open(filepath.Join(t.TempDir(), "jobs.db"), jobqueue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	e := newEnv(t, func(o *consentapi.Options) { o.Scans.Enqueue = q.Enqueue })
	path := "/v1/admin/sites/shop/scan-settings"
	rec := e.do(t, request{method: "GET", path: path, header: bearer})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"schedule":"weekly"`) || !strings.Contains(rec.Body.String(), `"max_pages":50`) ||
		!strings.Contains(rec.Body.String(), `"stored":null`) || !strings.Contains(rec.Body.String(), `"next_run":"`) || !strings.Contains(rec.Body.String(), `"scheduled":true`) {
		t.Errorf("GET defaults: %d %s", rec.Code, rec.Body)
	}
	// With no scan queue (embedded store, no workers) nothing is scheduled.
	off := newEnv(t)
	if rec := off.do(t, request{method: "GET", path: path, header: bearer}); rec.Code != 200 ||
		!strings.Contains(rec.Body.String(), `"scheduled":false`) || strings.Contains(rec.Body.String(), "next_run") {
		t.Errorf("GET without a scheduler: %d %s; want scheduled false and no next_run", rec.Code, rec.Body)
	}
	for _, tt := range []struct{ body, field string }{
		{`{"schedule":"0 3 * *"}`, "scan.schedule"},
		{`{"start_urls":["ftp://x/"]}`, "scan.start_urls"},
		{`{"modes":["maybe"]}`, "scan.modes"},
		{`{"max_pages":-3}`, "scan.max_pages"},
		{`{"webhook":{"url":"https://x"}}`, "webhook"},
	} {
		rec := e.do(t, request{method: "PUT", path: path, body: tt.body, header: bearer})
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"field":"`+tt.field+`"`) {
			t.Errorf("PUT %s = %d %s; want 400 naming %s", tt.body, rec.Code, rec.Body, tt.field)
		}
	}
	rec = e.do(t, request{method: "PUT", path: path, header: bearer,
		body: `{"schedule":"0 3 * * 1","start_urls":["https://shop.example/sv/"],"max_pages":7,"modes":["none"],"raise_revision":false}`})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"schedule":"0 3 * * 1"`) || !strings.Contains(rec.Body.String(), `"raise_revision":false`) {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do(t, request{method: "GET", path: path, header: bearer}); !strings.Contains(rec.Body.String(), `"max_pages":7`) {
		t.Errorf("GET after PUT: %s", rec.Body)
	}
	// "Scan now" uses the stored settings.
	if rec := e.do(t, request{method: "POST", path: "/v1/admin/sites/shop/scans", header: bearer}); rec.Code != 202 {
		t.Fatalf("scan now: %d %s", rec.Code, rec.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := q.Receive(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := schedule.DecodeSettings(d.Job.Data); err != nil || s.MaxPages != 7 || s.StartURLs[0] != "https://shop.example/sv/" || len(s.Modes) != 1 {
		t.Errorf("job settings = %+v, %v; want the stored ones", s, err)
	}
}

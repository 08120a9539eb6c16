package consentapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/store"
)

// TestConsentLifecycle records, replays, appends, reads, exports and
// erases a consent.
func TestConsentLifecycle(t *testing.T) {
	e := newEnv(t)
	const consents = "/v1/sites/shop/consents"

	rec := e.do(t, request{method: "POST", path: consents, body: e.decision(t, nil), origin: "https://shop.example"})
	wantStatus(t, rec, http.StatusCreated)
	first := decode[answer](t, rec)
	if len(first.ConsentID) != 22 || strings.ContainsAny(first.ConsentID, ".=+/") {
		t.Errorf("consent id %q is not 22 characters of URL-safe base64", first.ConsentID)
	}
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "https://shop.example" {
		t.Errorf("Access-Control-Allow-Origin=%q", got)
	}
	if rec.Header().Get("Set-Cookie") != "" {
		t.Error("a cross-origin answer set a cookie")
	}
	at, err := time.Parse(time.RFC3339, first.RecordedAt)
	if err != nil || time.Since(at) > time.Minute {
		t.Errorf("recorded_at=%q", first.RecordedAt)
	}
	exp, _ := time.Parse(time.RFC3339, first.ExpiresAt)
	if got := exp.Sub(at); got != 180*24*time.Hour {
		t.Errorf("expires_at - recorded_at = %v, want the site's validity 180d", got)
	}
	if first.Action != store.Custom || first.Revision != 1 || !first.Categories["analytics"] || first.Categories["marketing"] {
		t.Errorf("answer %+v", first)
	}

	// A retry of the same event answers 200 with the same body.
	replay := e.do(t, request{method: "POST", path: consents, body: e.decision(t, nil)})
	wantStatus(t, replay, http.StatusOK)
	if replay.Body.String() != rec.Body.String() {
		t.Errorf("replay answered\n%s\nwant\n%s", replay.Body, rec.Body)
	}

	// Withdrawal is a new record in the same history.
	w := e.do(t, request{method: "POST", path: consents, body: e.decision(t, map[string]any{
		"event_id": "evt-withdraw-000000001", "consent_id": first.ConsentID, "action": "withdraw",
		"categories": map[string]any{"necessary": true, "analytics": false, "marketing": false},
	})})
	wantStatus(t, w, http.StatusCreated)
	if got := decode[answer](t, w).ConsentID; got != first.ConsentID {
		t.Fatalf("withdrawal got consent id %q, want %q", got, first.ConsentID)
	}

	cur := e.do(t, request{method: "GET", path: consents + "/" + first.ConsentID})
	wantStatus(t, cur, http.StatusOK)
	state := decode[answer](t, cur)
	b, _ := e.srv.Banner("shop")
	if state.Action != store.Withdraw || state.Categories["analytics"] || state.Language != "sv" || state.Banner != b.Banner {
		t.Errorf("current state %+v", state)
	}

	ex := e.do(t, request{method: "GET", path: consents + "/" + first.ConsentID + "/export"})
	wantStatus(t, ex, http.StatusOK)
	var export struct {
		ConsentID string                     `json:"consent_id"`
		Site      string                     `json:"site"`
		Records   []store.Record             `json:"records"`
		Banners   map[string]json.RawMessage `json:"banners"`
	}
	if err := json.Unmarshal(ex.Body.Bytes(), &export); err != nil {
		t.Fatal(err)
	}
	if len(export.Records) != 2 || export.Records[0].Action != store.Custom || export.Records[1].Action != store.Withdraw {
		t.Fatalf("export records %+v", export.Records)
	}
	if r := export.Records[0]; r.UserAgent != "firefox" || r.WidgetVersion != e.srv.WidgetVersion() || r.Site != "shop" {
		t.Errorf("record %+v: want user agent family firefox, widget version, site", r)
	}
	if strings.Contains(ex.Body.String(), "Mozilla") || strings.Contains(ex.Body.String(), "192.0.2") {
		t.Error("the export holds a raw user agent or an IP address")
	}
	snap, ok := export.Banners[b.Banner]
	if !ok {
		t.Fatalf("export has no snapshot of banner %s", b.Banner)
	}
	if hash, _, _ := consentapi.BannerHash(decodeBanner(t, snap)); hash != b.Banner {
		t.Errorf("the exported snapshot hashes to %s, want %s", hash, b.Banner)
	}

	wantStatus(t, e.do(t, request{method: "DELETE", path: consents + "/" + first.ConsentID}), http.StatusNoContent)
	wantStatus(t, e.do(t, request{method: "GET", path: consents + "/" + first.ConsentID}), http.StatusNotFound)
	wantStatus(t, e.do(t, request{method: "GET", path: consents + "/" + first.ConsentID + "/export"}), http.StatusNotFound)

	// An erased id is not resurrected: a decision naming it gets a new id.
	again := e.do(t, request{method: "POST", path: consents, body: e.decision(t, map[string]any{
		"event_id": "evt-after-erasure-0001", "consent_id": first.ConsentID,
	})})
	wantStatus(t, again, http.StatusCreated)
	if got := decode[answer](t, again).ConsentID; got == first.ConsentID {
		t.Error("a decision with an erased consent id was appended to it")
	}
}

// TestCORS checks preflights, Vary and the same-origin path that sets the
// consent cookie.
func TestCORS(t *testing.T) {
	e := newEnv(t)
	pre := e.do(t, request{method: "OPTIONS", path: "/v1/sites/shop/consents", origin: "https://www.shop.example",
		header: map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}})
	wantStatus(t, pre, http.StatusNoContent)
	h := pre.Header()
	if h.Get("Access-Control-Allow-Origin") != "https://www.shop.example" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") || !strings.Contains(h.Get("Vary"), "Origin") {
		t.Errorf("preflight headers %v", h)
	}

	// Through the site's own origin (a reverse proxy passing Host).
	rec := e.do(t, request{method: "POST", path: "/v1/sites/shop/consents", host: "www.shop.example", origin: "https://www.shop.example",
		body: e.decision(t, map[string]any{"action": "accept_all", "categories": map[string]any{"necessary": true, "analytics": true, "marketing": true}})})
	wantStatus(t, rec, http.StatusCreated)
	a := decode[answer](t, rec)
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v, want the consent cookie", cookies)
	}
	c := cookies[0]
	at, _ := time.Parse(time.RFC3339, a.RecordedAt)
	want := "1." + a.ConsentID + ".1.analytics+marketing." + itoa(at.Unix())
	if c.Name != "crumb_consent" || c.Value != want || c.Path != "/" || c.Domain != "shop.example" || !c.Secure ||
		c.SameSite != http.SameSiteLaxMode || c.HttpOnly || c.MaxAge < 180*24*3600-5 {
		t.Errorf("cookie %+v, want value %s", c, want)
	}

	// Reject on localhost: host-only cookie, not Secure, "-" for none.
	rec = e.do(t, request{method: "POST", path: "/v1/sites/shop/consents", host: "127.0.0.1:8080", origin: "http://127.0.0.1:8080",
		body: e.decision(t, map[string]any{"event_id": "evt-local-0000000001", "action": "reject_all", "categories": map[string]any{"necessary": true, "analytics": false, "marketing": false}})})
	wantStatus(t, rec, http.StatusCreated)
	c = rec.Result().Cookies()[0]
	if c.Domain != "" || c.Secure || !strings.Contains(c.Value, ".1.-.") {
		t.Errorf("local cookie %+v", c)
	}

	// Erasing through the site's origin deletes the cookie.
	id := decode[answer](t, rec).ConsentID
	del := e.do(t, request{method: "DELETE", path: "/v1/sites/shop/consents/" + id, host: "127.0.0.1:8080", origin: "http://127.0.0.1:8080"})
	wantStatus(t, del, http.StatusNoContent)
	if c := del.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("erasure cookies %+v, want the consent cookie deleted", c)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

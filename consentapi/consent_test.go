package consentapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

	rec := e.do(t, request{method: "POST", path: consents, body: e.decision(t, map[string]any{"source": "settings"}), origin: "https://shop.example"})
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

	// A retry of the same event answers 200 with the same body, also when
	// it names another source (or none): the source is not part of the
	// decision, and the stored one stays.
	for _, src := range []any{"settings", "script", nil} {
		replay := e.do(t, request{method: "POST", path: consents, body: e.decision(t, map[string]any{"source": src})})
		wantStatus(t, replay, http.StatusOK)
		if replay.Body.String() != rec.Body.String() {
			t.Errorf("replay with source %v answered\n%s\nwant\n%s", src, replay.Body, rec.Body)
		}
	}
	cur := e.do(t, request{method: "GET", path: consents + "/" + first.ConsentID})
	wantStatus(t, cur, http.StatusOK)
	if got := decode[answer](t, cur).Source; got != store.SourceSettings {
		t.Errorf("current state has source %q, want settings", got)
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

	// The withdrawal names no source (an older widget): none is shown.
	cur = e.do(t, request{method: "GET", path: consents + "/" + first.ConsentID})
	wantStatus(t, cur, http.StatusOK)
	if strings.Contains(cur.Body.String(), `"source"`) {
		t.Errorf("a record without a source shows one: %s", cur.Body)
	}
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
	if export.Records[0].Source != store.SourceSettings || export.Records[1].Source != "" {
		t.Errorf("export sources %q, %q; want settings and none", export.Records[0].Source, export.Records[1].Source)
	}
	if n := strings.Count(ex.Body.String(), `"source"`); n != 1 {
		t.Errorf("export names a source %d times, want once (the record without one leaves it out): %s", n, ex.Body)
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

	// Under Global Privacy Control, a grant of a gpc category (marketing)
	// is explicit: the cookie carries ".g" as the widget writes it, so
	// that the widget leaves the server's cookie alone. A decision that
	// grants no gpc category, or one without the signal, has no mark.
	for _, tt := range []struct {
		event, gpcHeader string
		marketing, mark  bool
	}{
		{"evt-gpc-explicit-00001", "1", true, true},
		{"evt-gpc-refused-000001", "1", false, false},
		{"evt-no-gpc-signal-0001", "", true, false},
	} {
		header := map[string]string{}
		if tt.gpcHeader != "" {
			header["Sec-GPC"] = tt.gpcHeader
		}
		action := "custom"
		if tt.marketing {
			action = "accept_all"
		}
		rec := e.do(t, request{method: "POST", path: "/v1/sites/shop/consents", host: "www.shop.example", origin: "https://www.shop.example", header: header,
			body: e.decision(t, map[string]any{"event_id": tt.event, "action": action, "categories": map[string]any{"necessary": true, "analytics": true, "marketing": tt.marketing}})})
		wantStatus(t, rec, http.StatusCreated)
		if v := rec.Result().Cookies()[0].Value; strings.HasSuffix(v, ".g") != tt.mark {
			t.Errorf("%s: cookie %q, want the .g mark %v", tt.event, v, tt.mark)
		}
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

// errorOf decodes a JSON error answer.
func errorOf(tb testing.TB, rec *httptest.ResponseRecorder) (msg, field string) {
	tb.Helper()
	var body struct {
		Error string `json:"error"`
		Field string `json:"field"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" {
		tb.Fatalf("body %q is not a JSON error (%v)", rec.Body, err)
	}
	return body.Error, body.Field
}

// TestEventIDReuse sends a decision, then another with the same event id:
// the same decision is a retry and answered with the stored record; a
// different one is 409 and changes nothing.
func TestEventIDReuse(t *testing.T) {
	all := func(v bool) map[string]any { return map[string]any{"necessary": true, "analytics": v, "marketing": v} }
	tests := []struct {
		name          string
		first, second map[string]any
		status        int
	}{
		{"retry", nil, nil, http.StatusOK},
		// The first named an unknown consent and got a new id; its retry
		// names the old id again and is still the same decision.
		{"retry naming an unknown consent", map[string]any{"consent_id": "AAAAAAAAAAAAAAAAAAAAAA"}, map[string]any{"consent_id": "AAAAAAAAAAAAAAAAAAAAAA"}, http.StatusOK},
		{"retry after the id was learnt", map[string]any{"consent_id": "AAAAAAAAAAAAAAAAAAAAAA"}, map[string]any{"consent_id": "first"}, http.StatusOK},
		// The source says what triggered the choice, not what it is.
		{"retry from another source", map[string]any{"source": "banner"}, map[string]any{"source": "script"}, http.StatusOK},
		{"retry naming a source", nil, map[string]any{"source": "settings"}, http.StatusOK},
		{"retry naming none", map[string]any{"source": "placeholder"}, nil, http.StatusOK},
		{"other action and categories", nil, map[string]any{"action": "reject_all", "categories": all(false)}, http.StatusConflict},
		{"other action only", map[string]any{"action": "accept_all", "categories": all(true)}, map[string]any{"action": "custom", "categories": all(true)}, http.StatusConflict},
		{"one category other", nil, map[string]any{"categories": map[string]any{"necessary": true, "analytics": true, "marketing": true}}, http.StatusConflict},
		{"other language", nil, map[string]any{"language": "en"}, http.StatusConflict},
		{"other revision", map[string]any{"revision": 2}, map[string]any{"revision": 1}, http.StatusConflict},
		{"another visitor's event id", map[string]any{"consent_id": "AAAAAAAAAAAAAAAAAAAAAA"}, map[string]any{"consent_id": "BBBBBBBBBBBBBBBBBBBBBB", "categories": all(false), "action": "reject_all"}, http.StatusConflict},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			// Revision 2 so that a decision may name revision 1 or 2.
			e := newEnvOn(t, b.open(t), func(o *consentapi.Options) { o.Sites.Sites[0].Revision = 2 })
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					const consents = "/v1/sites/shop/consents"
					event := map[string]any{"event_id": "evt-reuse-" + strconv.Itoa(1000000000+i), "revision": 2}
					with := func(m map[string]any) map[string]any {
						out := map[string]any{}
						for k, v := range event {
							out[k] = v
						}
						for k, v := range m {
							out[k] = v
						}
						return out
					}
					first := e.do(t, request{method: "POST", path: consents, body: e.decision(t, with(tt.first)), host: "shop.example", origin: "https://shop.example"})
					wantStatus(t, first, http.StatusCreated)
					id := decode[answer](t, first).ConsentID
					second := with(tt.second)
					if second["consent_id"] == "first" {
						second["consent_id"] = id
					}
					rec := e.do(t, request{method: "POST", path: consents, body: e.decision(t, second), host: "shop.example", origin: "https://shop.example"})
					wantStatus(t, rec, tt.status)
					if tt.status == http.StatusOK {
						if rec.Body.String() != first.Body.String() {
							t.Errorf("retry answered\n%s\nwant the stored record\n%s", rec.Body, first.Body)
						}
						if len(rec.Result().Cookies()) != 1 {
							t.Errorf("retry set cookies %v, want the consent cookie", rec.Result().Cookies())
						}
						return
					}
					if _, field := errorOf(t, rec); field != "event_id" {
						t.Errorf("field %q, want event_id", field)
					}
					if c := rec.Header().Values("Set-Cookie"); len(c) != 0 {
						t.Errorf("a refused reuse set %v", c)
					}
					if strings.Contains(rec.Body.String(), id) {
						t.Errorf("a refused reuse answered with the other decision's consent id: %s", rec.Body)
					}
					// Nothing was written: the first consent still has its one record.
					ex := e.do(t, request{method: "GET", path: consents + "/" + id + "/export"})
					wantStatus(t, ex, http.StatusOK)
					var export struct{ Records []store.Record }
					if err := json.Unmarshal(ex.Body.Bytes(), &export); err != nil || len(export.Records) != 1 {
						t.Errorf("history after a refused reuse: %s (%v)", ex.Body, err)
					}
				})
			}
		})
	}
}

// readCounter is a store that counts the reads of a consent (its history
// or its latest record).
type readCounter struct {
	store.Store
	reads atomic.Int64
}

func (r *readCounter) Consent(ctx context.Context, site, id string) ([]store.Record, error) {
	r.reads.Add(1)
	return r.Store.Consent(ctx, site, id)
}

func (r *readCounter) Latest(ctx context.Context, site, id, before string) (store.Record, error) {
	r.reads.Add(1)
	return r.Store.Latest(ctx, site, id, before)
}

// TestWithdraw checks that a decision is recorded as withdraw only when it
// takes back a category the consent it names granted, and otherwise, never
// refused, as what it is (reject_all or custom), retries included; and
// that only withdraw reads the consent first.
func TestWithdraw(t *testing.T) {
	cats := func(analytics, marketing bool) map[string]any {
		return map[string]any{"necessary": true, "analytics": analytics, "marketing": marketing}
	}
	custom := map[string]any{"action": "custom", "categories": cats(true, false)} // grants analytics
	withdraw := func(analytics, marketing bool) map[string]any {
		return map[string]any{"action": "withdraw", "categories": cats(analytics, marketing)}
	}
	tests := []struct {
		name   string
		before []map[string]any // recorded first, in order, under one consent id
		req    map[string]any   // "consent_id": "first" names that consent
		status int
		action string // recorded
		sameID bool   // the answer has the consent id of before
		reads  int64
	}{
		{"takes back analytics", []map[string]any{custom}, withdraw(false, false), 201, "withdraw", true, 1},
		{"takes back analytics, keeps marketing", []map[string]any{{"action": "accept_all", "categories": cats(true, true)}}, withdraw(false, true), 201, "withdraw", true, 1},
		{"no consent id: a first refusal", nil, withdraw(false, false), 201, "reject_all", false, 0},
		{"no consent id, grants marketing", nil, withdraw(false, true), 201, "custom", false, 0},
		{"refuses only what was not granted", []map[string]any{custom}, withdraw(true, false), 201, "custom", true, 1},
		{"after reject_all", []map[string]any{{"action": "reject_all", "categories": cats(false, false)}}, withdraw(false, false), 201, "reject_all", true, 1},
		{"after a withdrawal of everything", []map[string]any{custom, withdraw(false, false)}, withdraw(false, false), 201, "reject_all", true, 1},
		{"earlier grant no longer latest", []map[string]any{{"action": "accept_all", "categories": cats(true, true)}, {"action": "custom", "categories": cats(false, true)}}, withdraw(false, true), 201, "custom", true, 1},
		{"unknown consent id starts a new one", nil, merge(withdraw(false, false), map[string]any{"consent_id": "AAAAAAAAAAAAAAAAAAAAAA"}), 201, "reject_all", false, 1},
		{"retry of the latest withdrawal", []map[string]any{custom, merge(withdraw(false, false), map[string]any{"event_id": "evt-withdrawal-retry-01"})},
			merge(withdraw(false, false), map[string]any{"event_id": "evt-withdrawal-retry-01"}), 200, "withdraw", true, 1},
		{"retry of an earlier withdrawal", []map[string]any{custom, merge(withdraw(false, false), map[string]any{"event_id": "evt-withdrawal-retry-02"}), {"action": "reject_all", "categories": cats(false, false)}},
			merge(withdraw(false, false), map[string]any{"event_id": "evt-withdrawal-retry-02"}), 200, "withdraw", true, 1},
		{"retry of a withdraw recorded as custom", []map[string]any{custom, merge(withdraw(true, false), map[string]any{"event_id": "evt-withdrawal-retry-03"})},
			merge(withdraw(true, false), map[string]any{"event_id": "evt-withdrawal-retry-03"}), 200, "custom", true, 1},
		{"custom does not read", []map[string]any{custom}, map[string]any{"action": "custom", "categories": cats(false, false)}, 201, "custom", true, 0},
		{"reject_all does not read", []map[string]any{custom}, map[string]any{"action": "reject_all", "categories": cats(false, false)}, 201, "reject_all", true, 0},
		{"accept_all does not read", nil, map[string]any{"action": "accept_all", "categories": cats(true, true)}, 201, "accept_all", false, 0},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			rc := &readCounter{Store: b.open(t)}
			e := newEnvOn(t, rc)
			const consents = "/v1/sites/shop/consents"
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					id := ""
					for j, d := range tt.before {
						body := merge(map[string]any{"event_id": "evt-withdraw-" + strconv.Itoa(1000000000+100*i+j), "consent_id": id}, d)
						if id == "" {
							delete(body, "consent_id")
						}
						rec := e.do(t, request{method: "POST", path: consents, body: e.decision(t, body)})
						wantStatus(t, rec, http.StatusCreated)
						id = decode[answer](t, rec).ConsentID
					}
					body := merge(map[string]any{"event_id": "evt-withdraw-" + strconv.Itoa(1000000099+100*i)}, tt.req)
					if id != "" && body["consent_id"] == nil {
						body["consent_id"] = id
					}
					before := rc.reads.Load()
					rec := e.do(t, request{method: "POST", path: consents, body: e.decision(t, body)})
					wantStatus(t, rec, tt.status)
					if got := rc.reads.Load() - before; got != tt.reads {
						t.Errorf("the decision read the consent %d times, want %d", got, tt.reads)
					}
					got := decode[answer](t, rec)
					if (got.ConsentID == id) != tt.sameID || got.ConsentID == "" {
						t.Errorf("consent id %q (before %q), want the same: %v", got.ConsentID, id, tt.sameID)
					}
					if string(got.Action) != tt.action {
						t.Errorf("recorded as %q, want %q", got.Action, tt.action)
					}
				})
			}
		})
	}
}

// TestWithdrawStoreDown: the read before a withdrawal answers 503 when
// the store is unavailable, like the write.
func TestWithdrawStoreDown(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			e := newEnvOn(t, st)
			first := e.do(t, request{method: "POST", path: "/v1/sites/shop/consents", body: e.decision(t, nil)})
			wantStatus(t, first, http.StatusCreated)
			body := e.decision(t, map[string]any{"event_id": "evt-withdraw-down-0001", "consent_id": decode[answer](t, first).ConsentID,
				"action": "withdraw", "categories": map[string]any{"necessary": true, "analytics": false, "marketing": false}})
			st.Close()
			rec := e.do(t, request{method: "POST", path: "/v1/sites/shop/consents", body: body})
			wantStatus(t, rec, http.StatusServiceUnavailable)
			if rec.Header().Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
		})
	}
}

// interleave is a store that runs a hook once right after the Latest read
// made for a decision with a given event id (the read of withdraw, before
// it records): another decision can then commit between that read and
// the write, as a concurrent request can.
type interleave struct {
	store.Store
	mu    sync.Mutex
	hooks map[string]func() // by event id
}

func (s *interleave) Latest(ctx context.Context, site, id, before string) (store.Record, error) {
	r, err := s.Store.Latest(ctx, site, id, before)
	s.mu.Lock()
	hook := s.hooks[before]
	delete(s.hooks, before)
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return r, err
}

// TestWithdrawRetryAfterInterleave: a decision sent as withdraw is judged
// against the consent's latest record; when another decision on the
// consent commits between that read and the write, a byte-identical retry
// judges it the other way. The retry is still the same request and gets
// the stored record (200), whichever action was recorded; a decision that
// differs from what the first try sent is still 409.
func TestWithdrawRetryAfterInterleave(t *testing.T) {
	cats := func(analytics, marketing bool) map[string]any {
		return map[string]any{"necessary": true, "analytics": analytics, "marketing": marketing}
	}
	withdraw := func(analytics, marketing bool) map[string]any {
		return map[string]any{"action": "withdraw", "categories": cats(analytics, marketing)}
	}
	rejectAll := map[string]any{"action": "reject_all", "categories": cats(false, false)}
	acceptAll := map[string]any{"action": "accept_all", "categories": cats(true, true)}
	tests := []struct {
		name        string
		before      map[string]any // the consent's first record
		req         map[string]any // sent twice, with one event id
		between     map[string]any // commits between the first try's read and write
		retry       map[string]any // changes on the retry; nil: byte-identical
		firstAction string
		status      int
	}{
		{"took back, then a refusal committed", acceptAll, withdraw(false, false), rejectAll, nil, "withdraw", http.StatusOK},
		{"took back one, then a refusal committed", acceptAll, withdraw(false, true), map[string]any{"action": "custom", "categories": cats(false, true)}, nil, "withdraw", http.StatusOK},
		{"took back nothing, then a grant committed", rejectAll, withdraw(false, false), acceptAll, nil, "reject_all", http.StatusOK},
		{"took back nothing (custom), then a grant committed", rejectAll, withdraw(true, false), acceptAll, nil, "custom", http.StatusOK},
		{"other categories under the event id", acceptAll, withdraw(false, false), rejectAll, withdraw(true, false), "withdraw", http.StatusConflict},
		{"sent as reject_all under the event id", acceptAll, withdraw(false, false), rejectAll, rejectAll, "withdraw", http.StatusConflict},
		{"sent as custom under the event id", acceptAll, withdraw(true, false), rejectAll, map[string]any{"action": "custom", "categories": cats(true, false)}, "withdraw", http.StatusConflict},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := &interleave{Store: b.open(t), hooks: map[string]func(){}}
			e := newEnvOn(t, st)
			const consents = "/v1/sites/shop/consents"
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					event := func(n int) string { return "evt-interleave-" + strconv.Itoa(1000000000+10*i+n) }
					rec := e.do(t, request{method: "POST", path: consents, body: e.decision(t, merge(tt.before, map[string]any{"event_id": event(0)}))})
					wantStatus(t, rec, http.StatusCreated)
					id := decode[answer](t, rec).ConsentID
					st.mu.Lock()
					st.hooks[event(1)] = func() {
						rec := e.do(t, request{method: "POST", path: consents, body: e.decision(t, merge(tt.between, map[string]any{"event_id": event(2), "consent_id": id}))})
						wantStatus(t, rec, http.StatusCreated)
					}
					st.mu.Unlock()
					req := merge(tt.req, map[string]any{"event_id": event(1), "consent_id": id})
					first := e.do(t, request{method: "POST", path: consents, body: e.decision(t, req)})
					wantStatus(t, first, http.StatusCreated)
					if got := decode[answer](t, first).Action; string(got) != tt.firstAction {
						t.Fatalf("first try recorded as %q, want %q", got, tt.firstAction)
					}
					retry := e.do(t, request{method: "POST", path: consents, body: e.decision(t, merge(req, tt.retry))})
					wantStatus(t, retry, tt.status)
					if tt.status == http.StatusOK && retry.Body.String() != first.Body.String() {
						t.Errorf("retry answered\n%s\nwant the stored record\n%s", retry.Body, first.Body)
					}
					// Three records: the first, the one between, the withdraw; a
					// refused reuse added none.
					ex := e.do(t, request{method: "GET", path: consents + "/" + id + "/export"})
					wantStatus(t, ex, http.StatusOK)
					if n := len(decode[struct{ Records []store.Record }](t, ex).Records); n != 3 {
						t.Errorf("%d records, want 3: %s", n, ex.Body)
					}
				})
			}
		})
	}
}

// TestImpressionsOff: a site with count_impressions false (blog, by
// default) counts no impression and says why; shop, which sets it, does.
func TestImpressionsOff(t *testing.T) {
	tests := []struct {
		site   string
		body   string
		status int
		count  float64
	}{
		{"blog", `{"revision":1,"language":"en"}`, http.StatusNotFound, 0},
		{"blog", `{}`, http.StatusNotFound, 0},
		{"shop", `{"revision":1,"language":"sv"}`, http.StatusNoContent, 1},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnvOn(t, b.open(t))
			for _, tt := range tests {
				t.Run(tt.site, func(t *testing.T) {
					rec := e.do(t, request{method: "POST", path: "/v1/sites/" + tt.site + "/impressions", body: tt.body})
					wantStatus(t, rec, tt.status)
					if tt.status == http.StatusNotFound {
						if msg, _ := errorOf(t, rec); !strings.Contains(msg, "count_impressions is false") {
							t.Errorf("error %q does not name count_impressions", msg)
						}
					}
					day := time.Now().UTC().Format(time.DateOnly)
					stats := e.do(t, request{method: "GET", path: "/v1/admin/sites/" + tt.site + "/stats?from=" + day + "&to=" + day, header: admin})
					wantStatus(t, stats, http.StatusOK)
					if got := decode[struct{ Impressions float64 }](t, stats).Impressions; got != tt.count {
						t.Errorf("stats count %v impressions, want %v: %s", got, tt.count, stats.Body)
					}
					if got := impressionsCounted(t, e, tt.site); got != tt.count {
						t.Errorf("metric %v, want %v", got, tt.count)
					}
				})
			}
		})
	}
}

// merge returns the keys of a, replaced and completed by b's.
func merge(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// impressionsCounted reads crumb_consent_impressions_total of site.
func impressionsCounted(t *testing.T, e *env, site string) float64 {
	t.Helper()
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "crumb_consent_impressions_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "site" && l.GetValue() == site {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestSourceShown records a decision from each source, and one naming
// none, on both stores, and finds each source, or none, wherever a record
// is shown: the current state, the visitor's export and the proof log as
// NDJSON and CSV.
func TestSourceShown(t *testing.T) {
	const consents = "/v1/sites/shop/consents"
	sources := []string{"banner", "settings", "placeholder", "script", ""}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnvOn(t, b.open(t))
			id := ""
			for i, src := range sources {
				change := map[string]any{"event_id": "evt-source-" + strconv.Itoa(1000000000+i)}
				if src != "" {
					change["source"] = src
				}
				if id != "" {
					change["consent_id"] = id
				}
				rec := e.do(t, request{method: "POST", path: consents, body: e.decision(t, change)})
				wantStatus(t, rec, http.StatusCreated)
				id = decode[answer](t, rec).ConsentID

				cur := e.do(t, request{method: "GET", path: consents + "/" + id})
				wantStatus(t, cur, http.StatusOK)
				if got := decode[answer](t, cur).Source; string(got) != src {
					t.Errorf("current state: source %q, want %q", got, src)
				}
				if src == "" && strings.Contains(cur.Body.String(), `"source"`) {
					t.Errorf("current state names a source it does not have: %s", cur.Body)
				}
			}

			var export struct{ Records []store.Record }
			if err := json.Unmarshal(e.do(t, request{method: "GET", path: consents + "/" + id + "/export"}).Body.Bytes(), &export); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range export.Records {
				got = append(got, string(r.Source))
			}
			if g, w := strings.Join(got, ","), strings.Join(sources, ","); g != w {
				t.Errorf("export sources %s, want %s", g, w)
			}

			today := time.Now().UTC().Format("2006-01-02")
			proofs := "/v1/admin/sites/shop/proofs?from=" + today + "&to=" + today
			nd := e.do(t, request{method: "GET", path: proofs, header: admin})
			wantStatus(t, nd, http.StatusOK)
			got = got[:0]
			for _, line := range strings.Split(strings.TrimSpace(nd.Body.String()), "\n") {
				var r store.Record
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("ndjson line %q: %v", line, err)
				}
				got = append(got, string(r.Source))
			}
			if g, w := strings.Join(got, ","), strings.Join(sources, ","); g != w {
				t.Errorf("ndjson sources %s, want %s", g, w)
			}

			cs := e.do(t, request{method: "GET", path: proofs + "&format=csv", header: admin})
			wantStatus(t, cs, http.StatusOK)
			rows, err := csv.NewReader(cs.Body).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			got = got[:0]
			for _, row := range rows {
				got = append(got, row[len(row)-1])
			}
			if g, w := strings.Join(got, ","), "source,"+strings.Join(sources, ","); g != w {
				t.Errorf("csv last column %s, want %s", g, w)
			}
		})
	}
}

// TestFullHistory posts decisions naming one consent id until its history
// holds store.MaxHistory records: the next one, a withdrawal judged
// against that history's latest record, is recorded under a new consent
// id that the answer carries, its retry answers the same, and the full
// history still reads back whole, its latest record last.
func TestFullHistory(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnvOn(t, b.open(t))
			const consents = "/v1/sites/shop/consents"
			post := func(body map[string]any) *httptest.ResponseRecorder {
				t.Helper()
				return e.do(t, request{method: "POST", path: consents, body: e.decision(t, body)})
			}
			event := func(i int) string { return fmt.Sprintf("evt-full-history-%06d", i) }
			id := ""
			for i := range store.MaxHistory {
				body := map[string]any{"event_id": event(i)}
				if id != "" {
					body["consent_id"] = id
				}
				rec := post(body)
				wantStatus(t, rec, http.StatusCreated)
				got := decode[answer](t, rec).ConsentID
				if id != "" && got != id {
					t.Fatalf("decision %d got consent id %q, want %q", i+1, got, id)
				}
				id = got
			}
			withdraw := map[string]any{"event_id": event(store.MaxHistory), "consent_id": id, "action": "withdraw",
				"categories": map[string]any{"necessary": true, "analytics": false, "marketing": false}}
			rec := post(withdraw)
			wantStatus(t, rec, http.StatusCreated)
			capped := decode[answer](t, rec)
			if capped.ConsentID == id || capped.ConsentID == "" || capped.Action != store.Withdraw {
				t.Fatalf("decision naming a full history: consent id %q (full %q), action %q; want a new id, withdraw", capped.ConsentID, id, capped.Action)
			}
			retry := post(withdraw)
			wantStatus(t, retry, http.StatusOK)
			if got := decode[answer](t, retry); got.ConsentID != capped.ConsentID || got.Action != store.Withdraw {
				t.Errorf("retry: consent id %q, action %q; want %q, withdraw", got.ConsentID, got.Action, capped.ConsentID)
			}

			get := e.do(t, request{method: "GET", path: consents + "/" + id})
			wantStatus(t, get, http.StatusOK)
			if got := decode[answer](t, get); got.EventID != event(store.MaxHistory-1) {
				t.Errorf("full history's latest is %s, want %s", got.EventID, event(store.MaxHistory-1))
			}
			get = e.do(t, request{method: "GET", path: consents + "/" + capped.ConsentID})
			wantStatus(t, get, http.StatusOK)
			if got := decode[answer](t, get); got.EventID != event(store.MaxHistory) {
				t.Errorf("new history's latest is %s, want %s", got.EventID, event(store.MaxHistory))
			}
			ex := e.do(t, request{method: "GET", path: consents + "/" + id + "/export"})
			wantStatus(t, ex, http.StatusOK)
			var export struct{ Records []store.Record }
			if err := json.Unmarshal(ex.Body.Bytes(), &export); err != nil || len(export.Records) != store.MaxHistory {
				t.Errorf("export of the full history has %d records (%v), want %d", len(export.Records), err, store.MaxHistory)
			}
		})
	}
}

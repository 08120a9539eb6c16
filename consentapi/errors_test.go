package consentapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi"
)

// TestBadInput covers every way a request can be wrong: each gets its
// status and a JSON error naming the problem, never a 500.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	const consents = "/v1/sites/shop/consents"
	big := e.decision(t, map[string]any{"widget_version": strings.Repeat("a", consentapi.MaxBody)})
	tests := []struct {
		name      string
		req       request
		status    int
		field     string
		errSubstr string
	}{
		{"unknown site", request{method: "POST", path: "/v1/sites/nope/consents", body: e.decision(t, nil)}, 404, "", "unknown site"},
		{"unknown route", request{method: "GET", path: "/v1/sites/shop/nothing"}, 404, "", ""},
		{"wrong method", request{method: "PUT", path: consents, body: "{}"}, 405, "", ""},
		{"origin not allowed", request{method: "POST", path: consents, body: e.decision(t, nil), origin: "https://evil.example"}, 403, "", "not allowed"},
		{"origin of another site", request{method: "POST", path: consents, body: e.decision(t, nil), origin: "https://blog.example"}, 403, "", "not allowed"},
		{"preflight from a stranger", request{method: "OPTIONS", path: consents, origin: "https://evil.example"}, 403, "", ""},
		{"body too large", request{method: "POST", path: consents, body: big}, 413, "", "larger than"},
		{"not JSON", request{method: "POST", path: consents, body: "event_id=x", ctype: "application/x-www-form-urlencoded"}, 415, "", "Content-Type"},
		{"no content type", request{method: "POST", path: consents, body: e.decision(t, nil), ctype: "text/plain"}, 415, "", ""},
		{"JSON in Latin-1", request{method: "POST", path: consents, body: e.decision(t, nil), ctype: "application/json; charset=latin1"}, 415, "", "UTF-8"},
		{"malformed JSON", request{method: "POST", path: consents, body: `{"event_id": "x",`}, 400, "", "malformed"},
		{"not an object", request{method: "POST", path: consents, body: `[1,2]`}, 400, "", "object"},
		{"trailing data", request{method: "POST", path: consents, body: e.decision(t, nil) + "{}"}, 400, "", "after the object"},
		{"empty body", request{method: "POST", path: consents, body: " ", ctype: "application/json"}, 400, "", "malformed"},
		{"unknown field", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"ip": "1.2.3.4"})}, 400, "ip", "unknown field"},
		{"unknown category", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"categories": map[string]any{"necessary": true, "analytics": true, "marketing": false, "video": true}})}, 400, "categories.video", "not a category"},
		{"missing category", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"categories": map[string]any{"necessary": true, "analytics": true}})}, 400, "categories.marketing", "missing"},
		{"categories missing", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"categories": nil})}, 400, "categories", "missing"},
		{"category not boolean", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"categories": map[string]any{"necessary": true, "analytics": "yes", "marketing": false}})}, 400, "categories", "wrong type"},
		{"category null", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"categories": map[string]any{"necessary": true, "analytics": nil, "marketing": false}})}, 400, "categories.analytics", "wrong type"},
		{"revision a string", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"revision": "1"})}, 400, "revision", "wrong type"},
		{"revision fraction", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"revision": 1.5})}, 400, "revision", "wrong type"},
		{"revision not served", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"revision": 2})}, 400, "revision", ""},
		{"revision missing", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"revision": nil})}, 400, "revision", "missing"},
		{"revision null", request{method: "POST", path: consents, body: strings.Replace(e.decision(t, nil), `"revision":1`, `"revision":null`, 1)}, 400, "revision", "missing"},
		{"revision zero", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"revision": 0})}, 400, "revision", "0: want"},
		{"null body", request{method: "POST", path: consents, body: "null"}, 400, "", "must be a JSON object"},
		{"action missing", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"action": nil})}, 400, "action", "missing"},
		{"action twice", request{method: "POST", path: consents, body: dup(t, e.decision(t, nil), `"action":"custom"`, `,"action":"reject_all"`)}, 400, "action", "more than once"},
		{"action twice, same value", request{method: "POST", path: consents, body: dup(t, e.decision(t, nil), `"action":"custom"`, `,"action":"custom"`)}, 400, "action", "more than once"},
		{"action twice, other case", request{method: "POST", path: consents, body: dup(t, e.decision(t, nil), `"action":"custom"`, `,"ACTION":"reject_all"`)}, 400, "action", "more than once"},
		{"action twice, escaped", request{method: "POST", path: consents, body: dup(t, e.decision(t, nil), `"action":"custom"`, `,"\u0061ction":"reject_all"`)}, 400, "action", "more than once"},
		{"event id twice", request{method: "POST", path: consents, body: dup(t, e.decision(t, nil), `"event_id":"evt-0123456789abcdef"`, `, "event_id":"evt-fedcba9876543210"`)}, 400, "event_id", "more than once"},
		{"category twice", request{method: "POST", path: consents, body: dup(t, e.decision(t, nil), `"marketing":false`, `,"marketing":true`)}, 400, "categories.marketing", "more than once"},
		{"categories twice", request{method: "POST", path: consents, body: dup(t, e.decision(t, nil), `"categories":{"analytics":true,"marketing":false,"necessary":true}`, `,"categories":{"analytics":false,"marketing":false,"necessary":true}`)}, 400, "categories", "more than once"},
		{"impression revision missing", request{method: "POST", path: "/v1/sites/shop/impressions", body: `{"language":"sv"}`}, 400, "revision", "missing"},
		{"impression field twice", request{method: "POST", path: "/v1/sites/shop/impressions", body: `{"revision":1,"language":"sv","revision":2}`}, 400, "revision", "more than once"},
		{"impressions not counted", request{method: "POST", path: "/v1/sites/blog/impressions", body: `{"revision":1,"language":"en"}`}, 404, "", "count_impressions is false"},
		{"necessary false", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"categories": map[string]any{"necessary": false, "analytics": true, "marketing": false}})}, 400, "categories.necessary", "cannot be refused"},
		{"bad action", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"action": "maybe"})}, 400, "action", ""},
		{"accept_all with a refusal", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"action": "accept_all"})}, 400, "categories.marketing", "accept_all"},
		{"reject_all with a grant", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"action": "reject_all"})}, 400, "categories.analytics", "reject_all"},
		{"withdraw refusing nothing", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"action": "withdraw", "categories": map[string]any{"necessary": true, "analytics": true, "marketing": true}})}, 400, "categories", "withdraw"},
		{"gpc granting marketing", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"action": "gpc", "categories": map[string]any{"necessary": true, "analytics": false, "marketing": true}})}, 400, "categories.marketing", "Global Privacy Control"},
		{"source unknown", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"source": "scroll"})}, 400, "source", `source "scroll": want "banner", "settings", "placeholder" or "script"`},
		{"source other case", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"source": "Banner"})}, 400, "source", `source "Banner": want "banner", "settings", "placeholder" or "script"`},
		{"source empty", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"source": ""})}, 400, "source", `source "": want "banner", "settings", "placeholder" or "script"`},
		{"source null", request{method: "POST", path: consents, body: dup(t, e.decision(t, nil), `"revision":1`, `,"source":null`)}, 400, "source", `source null: want "banner", "settings", "placeholder" or "script"`},
		{"source a number", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"source": 1})}, 400, "source", `source of JSON type number: want "banner", "settings", "placeholder" or "script"`},
		{"source a boolean", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"source": true})}, 400, "source", `source of JSON type bool: want "banner", "settings", "placeholder" or "script"`},
		{"source a list", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"source": []string{"banner"}})}, 400, "source", `source of JSON type array: want "banner", "settings", "placeholder" or "script"`},
		{"source an object", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"source": map[string]any{}})}, 400, "source", `source of JSON type object: want "banner", "settings", "placeholder" or "script"`},
		{"source twice", request{method: "POST", path: consents, body: dup(t, e.decision(t, map[string]any{"source": "banner"}), `"source":"banner"`, `,"source":"script"`)}, 400, "source", "more than once"},
		{"event id missing", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"event_id": nil})}, 400, "event_id", "missing"},
		{"event id short", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"event_id": "abc"})}, 400, "event_id", ""},
		{"event id bad characters", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"event_id": "0123456789abcdef/../x"})}, 400, "event_id", ""},
		{"event id a number", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"event_id": 12345678901234567})}, 400, "event_id", "wrong type"},
		{"consent id malformed", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"consent_id": "x.y"})}, 400, "consent_id", ""},
		{"banner unknown", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"banner": strings.Repeat("0", 32)})}, 400, "banner", "not a banner"},
		{"banner malformed", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"banner": "zz"})}, 400, "banner", ""},
		{"language not of site", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"language": "de"})}, 400, "language", ""},
		{"widget version missing", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"widget_version": nil})}, 400, "widget_version", ""},
		{"widget version made up", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"widget_version": "loadtest"})}, 400, "widget_version", "not the hash of a widget bundle"},
		{"widget version never served", request{method: "POST", path: consents, body: e.decision(t, map[string]any{"widget_version": "0123456789abcdef"})}, 400, "widget_version", "not the hash of a widget bundle"},
		{"impression bad revision", request{method: "POST", path: "/v1/sites/shop/impressions", body: `{"revision":0,"language":"sv"}`}, 400, "revision", ""},
		{"impression unknown field", request{method: "POST", path: "/v1/sites/shop/impressions", body: `{"revision":1,"language":"sv","url":"/x"}`}, 400, "url", "unknown field"},
		{"consent id not found", request{method: "GET", path: "/v1/sites/shop/consents/AAAAAAAAAAAAAAAAAAAAAA"}, 404, "", "no such consent"},
		{"export of an unknown consent", request{method: "GET", path: "/v1/sites/shop/consents/AAAAAAAAAAAAAAAAAAAAAA/export"}, 404, "", "no such consent"},
		{"consent id garbage", request{method: "GET", path: "/v1/sites/shop/consents/..%2f"}, 404, "", "no such consent"},
		{"erase unknown", request{method: "DELETE", path: "/v1/sites/shop/consents/AAAAAAAAAAAAAAAAAAAAAA"}, 404, "", "no such consent"},
		{"admin without token", request{method: "GET", path: "/v1/admin/sites/shop/stats?from=2026-01-01&to=2026-01-02"}, 401, "", "token"},
		{"admin wrong token", request{method: "GET", path: "/v1/admin/sites/shop/stats?from=2026-01-01&to=2026-01-02", header: map[string]string{"Authorization": "Bearer nope"}}, 401, "", ""},
		{"admin unknown site", request{method: "GET", path: "/v1/admin/sites/nope/stats?from=2026-01-01&to=2026-01-02", header: admin}, 404, "", ""},
		{"stats bad date", request{method: "GET", path: "/v1/admin/sites/shop/stats?from=2026-13-01&to=2026-01-02", header: admin}, 400, "from", ""},
		{"stats missing to", request{method: "GET", path: "/v1/admin/sites/shop/stats?from=2026-01-01", header: admin}, 400, "to", "missing"},
		{"stats reversed", request{method: "GET", path: "/v1/admin/sites/shop/stats?from=2026-02-01&to=2026-01-02", header: admin}, 400, "to", "before"},
		{"stats too long", request{method: "GET", path: "/v1/admin/sites/shop/stats?from=2020-01-01&to=2026-01-02", header: admin}, 400, "to", "longer"},
		{"proofs bad format", request{method: "GET", path: "/v1/admin/sites/shop/proofs?from=2026-01-01&to=2026-01-02&format=xml", header: admin}, 400, "format", ""},
		{"metrics without token", request{method: "GET", path: "/metrics"}, 401, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(t, tt.req)
			wantStatus(t, rec, tt.status)
			var body struct {
				Error string `json:"error"`
				Field string `json:"field"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" {
				t.Fatalf("body %q is not a JSON error (%v)", rec.Body, err)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type=%q", ct)
			}
			if body.Field != tt.field {
				t.Errorf("field=%q, want %q (error %q)", body.Field, tt.field, body.Error)
			}
			if !strings.Contains(body.Error, tt.errSubstr) {
				t.Errorf("error %q does not mention %q", body.Error, tt.errSubstr)
			}
		})
	}
}

// dup returns body with extra inserted after its first occurrence of
// after.
func dup(tb testing.TB, body, after, extra string) string {
	tb.Helper()
	if !strings.Contains(body, after) {
		tb.Fatalf("%s has no %s", body, after)
	}
	return strings.Replace(body, after, after+extra, 1)
}

var admin = map[string]string{"Authorization": "Bearer " + adminToken}

// TestTooManyRequests checks the per-IP limit: 429 with Retry-After, and
// another client is unaffected.
func TestTooManyRequests(t *testing.T) {
	e := newEnv(t, func(o *consentapi.Options) { o.RateLimit, o.RateBurst = 1, 2 })
	req := request{method: "POST", path: "/v1/sites/shop/impressions", body: `{"revision":1,"language":"sv"}`}
	for range 2 {
		wantStatus(t, e.do(t, req), http.StatusNoContent)
	}
	rec := e.do(t, req)
	wantStatus(t, rec, http.StatusTooManyRequests)
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After=%q, want 1", got)
	}
	other := httptestRequestFrom(e, req, "192.0.2.77:4000")
	wantStatus(t, other, http.StatusNoContent)
}

// TestStoreDown closes the store under the server: decisions and readiness
// answer 503 with Retry-After, liveness stays 200.
func TestStoreDown(t *testing.T) {
	e := newEnv(t)
	body := e.decision(t, nil)
	e.store.Close()
	for _, r := range []request{
		{method: "POST", path: "/v1/sites/shop/consents", body: body},
		{method: "POST", path: "/v1/sites/shop/impressions", body: `{"revision":1,"language":"sv"}`},
		{method: "GET", path: "/v1/sites/shop/consents/AAAAAAAAAAAAAAAAAAAAAA"},
		{method: "GET", path: "/readyz"},
	} {
		rec := e.do(t, r)
		wantStatus(t, rec, http.StatusServiceUnavailable)
		if rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s %s: no Retry-After", r.method, r.path)
		}
	}
	wantStatus(t, e.do(t, request{method: "GET", path: "/healthz"}), http.StatusOK)
}

// TestClientGone: a request whose client went away (its context
// cancelled) while the store was read is not a store outage: answered 499
// (nginx's "client closed request"), logged at debug, not counted in
// crumb_store_errors_total (which alerts) nor logged as a warning.
func TestClientGone(t *testing.T) {
	const proofs = "/v1/admin/sites/shop/proofs?from=2026-01-01&to=2026-01-02"
	tests := []struct {
		name     string
		req      request
		backends []string // the stores that read with the request's context here
	}{
		{"proof export", request{method: "GET", path: proofs, header: admin}, []string{"embedded", "redis"}},
		{"consent read", request{method: "GET", path: "/v1/sites/shop/consents/AAAAAAAAAAAAAAAAAAAAAA"}, []string{"redis"}},
		{"readiness", request{method: "GET", path: "/readyz"}, []string{"redis"}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			var logs syncBuffer
			e := newEnvOn(t, b.open(t), func(o *consentapi.Options) {
				o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			for _, tt := range tests {
				if !slices.Contains(tt.backends, b.name) {
					continue
				}
				t.Run(tt.name, func(t *testing.T) {
					ctx, cancel := context.WithCancel(context.Background())
					cancel()
					tt.req.ctx = ctx
					logged := len(logs.String())
					rec := e.do(t, tt.req)
					wantStatus(t, rec, 499)
					if got := rec.Header().Get("Retry-After"); got != "" {
						t.Errorf("Retry-After %q", got)
					}
					if n := storeErrors(t, e); n != 0 {
						t.Errorf("crumb_store_errors_total=%v, want 0", n)
					}
					out := logs.String()[logged:]
					if strings.Contains(out, "store unavailable") || strings.Contains(out, "level=WARN") || strings.Contains(out, "level=ERROR") {
						t.Errorf("logged as a failure:\n%s", out)
					}
					if !strings.Contains(out, `level=DEBUG msg="client went away"`) {
						t.Errorf("no debug line for the client going away:\n%s", out)
					}
				})
			}
		})
	}
}

// storeErrors sums crumb_store_errors_total over its routes.
func storeErrors(t *testing.T, e *env) float64 {
	t.Helper()
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() == "crumb_store_errors_total" {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// TestIncompleteBody sends decisions over a real connection whose body
// does not arrive whole: cut short (half-closed before the announced
// Content-Length, or before the last chunk) it is a 400, too slow for the
// server's ReadTimeout a 408; neither names a socket address, and nothing
// is recorded (the same decision sent whole afterwards is new: 201).
func TestIncompleteBody(t *testing.T) {
	chunked := func(body string, last bool) string {
		var b strings.Builder
		for i := 0; i < len(body); i += 50 {
			part := body[i:min(i+50, len(body))]
			fmt.Fprintf(&b, "%x\r\n%s\r\n", len(part), part)
		}
		if last {
			b.WriteString("0\r\n\r\n")
		}
		return b.String()
	}
	tests := []struct {
		name      string
		send      func(body string) (header, rest string)
		halfClose bool // close the client's side after sending
		status    int
		errSubstr string
	}{
		{"whole, chunked", func(body string) (string, string) {
			return "Transfer-Encoding: chunked\r\n", chunked(body, true)
		}, false, http.StatusCreated, ""},
		{"shorter than Content-Length, half-closed", func(body string) (string, string) {
			return fmt.Sprintf("Content-Length: %d\r\n", len(body)+100), body
		}, true, http.StatusBadRequest, "incomplete body"},
		{"no last chunk, half-closed", func(body string) (string, string) {
			return "Transfer-Encoding: chunked\r\n", chunked(body, false)
		}, true, http.StatusBadRequest, "incomplete body"},
		{"slower than ReadTimeout", func(body string) (string, string) {
			return fmt.Sprintf("Content-Length: %d\r\n", len(body)+10), body
		}, false, http.StatusRequestTimeout, "too slowly"},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnvOn(t, b.open(t))
			srv := httptest.NewUnstartedServer(e.srv)
			srv.Config.ReadTimeout = time.Second
			srv.Start()
			t.Cleanup(srv.Close)
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					body := e.decision(t, map[string]any{"event_id": "evt-incomplete-" + strconv.Itoa(1000000000+i)})
					header, rest := tt.send(body)
					conn, err := net.Dial("tcp", srv.Listener.Addr().String())
					if err != nil {
						t.Fatal(err)
					}
					defer conn.Close()
					conn.SetDeadline(time.Now().Add(10 * time.Second))
					req := "POST /v1/sites/shop/consents HTTP/1.1\r\nHost: api.crumb.example\r\nContent-Type: application/json\r\n" + header + "\r\n" + rest
					if _, err := io.WriteString(conn, req); err != nil {
						t.Fatal(err)
					}
					if tt.halfClose {
						conn.(*net.TCPConn).CloseWrite()
					}
					res, err := http.ReadResponse(bufio.NewReader(conn), nil)
					if err != nil {
						t.Fatal(err)
					}
					got, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != tt.status {
						t.Fatalf("status=%d, want %d; body=%s", res.StatusCode, tt.status, got)
					}
					if tt.status == http.StatusCreated {
						return
					}
					if tt.status == http.StatusRequestTimeout && !res.Close {
						t.Error("a 408 without Connection: close")
					}
					var eb struct{ Error string }
					if err := json.Unmarshal(got, &eb); err != nil || !strings.Contains(eb.Error, tt.errSubstr) {
						t.Errorf("body %s, want a JSON error mentioning %q (%v)", got, tt.errSubstr, err)
					}
					if strings.Contains(string(got), "127.0.0.1") || strings.Contains(string(got), "tcp") {
						t.Errorf("the error names the connection: %s", got)
					}
					whole := e.do(t, request{method: "POST", path: "/v1/sites/shop/consents", body: body})
					wantStatus(t, whole, http.StatusCreated)
				})
			}
		})
	}
}

package consentapi_test

import (
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crumbhq/crumb/consentapi"
)

// TestLogsHoldNoIP sends the public API's requests (decisions, replays,
// impressions, reads, crumb.js, preflights, and the errors: 400, 403, 404,
// 415, 429, 503) from clients directly and through a trusted proxy, with
// the service logging everything (debug), and checks that no client or
// proxy address, whole or by its network part, reaches the log (R35): request logs
// carry route, status and duration, never who asked.
func TestLogsHoldNoIP(t *testing.T) {
	logs := &syncBuffer{}
	_, proxies, _ := net.ParseCIDR("10.0.0.0/8")
	e := newEnv(t, func(o *consentapi.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.TrustedProxies = append(o.TrustedProxies, proxies)
		o.RateLimit, o.RateBurst = 1, 40
	})
	b, _ := e.srv.Banner("shop")
	clients := []struct {
		name, remote, xff string
		ips               []string // must not be logged
	}{
		{"direct", "203.0.113.77:51234", "198.51.100.23", []string{"203.0.113.77", "198.51.100.23", "203.0.113"}},
		{"through a proxy", "10.9.8.7:40404", "198.51.100.24, 10.9.8.7", []string{"198.51.100.24", "10.9.8.7", "198.51.100"}},
		{"ipv6", "[2001:db8::7:1]:443", "2001:db8::99", []string{"2001:db8::7:1", "2001:db8::99", "2001:db8"}},
	}
	send := func(remote, xff string, r request) int {
		req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
		req.RemoteAddr = remote
		req.Header.Set("X-Forwarded-For", xff)
		req.Header.Set("X-Real-Ip", strings.Split(xff, ",")[0])
		if r.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if r.ctype != "" {
			req.Header.Set("Content-Type", r.ctype)
		}
		if r.origin != "" {
			req.Header.Set("Origin", r.origin)
		}
		for k, v := range r.header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		return rec.Code
	}
	seen := map[int]bool{}
	for i, c := range clients {
		ev := "evt-logs-0000000000" + string(rune('a'+i))
		decision := e.decision(t, map[string]any{"event_id": ev})
		for _, r := range []request{
			{method: "POST", path: "/v1/sites/shop/consents", body: decision, origin: "https://shop.example"},
			{method: "POST", path: "/v1/sites/shop/consents", body: decision, origin: "https://shop.example"}, // replay
			{method: "POST", path: "/v1/sites/shop/consents", body: e.decision(t, map[string]any{"action": "maybe"})},
			{method: "POST", path: "/v1/sites/shop/consents", body: decision, ctype: "text/plain"},
			{method: "POST", path: "/v1/sites/shop/consents", body: decision, origin: "https://evil.example"},
			{method: "OPTIONS", path: "/v1/sites/shop/consents", origin: "https://shop.example"},
			{method: "POST", path: "/v1/sites/nope/consents", body: decision},
			{method: "POST", path: "/v1/sites/shop/impressions", body: `{"revision":1,"language":"sv"}`},
			{method: "POST", path: "/v1/sites/shop/impressions", body: `{"revision":0,"language":"sv"}`},
			{method: "GET", path: "/v1/sites/shop/consents/AAAAAAAAAAAAAAAAAAAAAA"},
			{method: "GET", path: "/v1/sites/shop/crumb.js"},
			{method: "GET", path: "/v1/sites/shop/crumb.js", header: map[string]string{"If-None-Match": "*"}},
			{method: "GET", path: "/v1/sites/nope/crumb.js"},
			{method: "GET", path: "/v1/admin/sites/shop/stats?from=2026-01-01&to=2026-01-02"},
		} {
			seen[send(c.remote, c.xff, r)] = true
		}
		// Past the burst: 429.
		for range 40 {
			seen[send(c.remote, c.xff, request{method: "POST", path: "/v1/sites/shop/impressions", body: `{"revision":1,"language":"sv"}`})] = true
		}
	}
	// The store gone: 503, and whatever the service logs about it (from a
	// client within its rate).
	e.store.Close()
	clients = append(clients, struct {
		name, remote, xff string
		ips               []string
	}{"store down", "192.0.2.10:1000", "192.0.2.11", []string{"192.0.2.10", "192.0.2.11", "192.0.2."}})
	seen[send(clients[3].remote, clients[3].xff, request{method: "POST", path: "/v1/sites/shop/consents", body: e.decision(t, map[string]any{"event_id": "evt-logs-store-down-1", "banner": b.Banner})})] = true
	for _, want := range []int{200, 201, 204, 304, 400, 401, 403, 404, 415, 429, 503} {
		if !seen[want] {
			t.Errorf("no request was answered %d: the test does not cover it", want)
		}
	}
	out := logs.String()
	if strings.Count(out, `"msg":"request"`) < 40 {
		t.Fatalf("the requests were not logged; log:\n%s", out)
	}
	for _, c := range clients {
		for _, ip := range c.ips {
			if strings.Contains(out, ip) {
				t.Errorf("%s: the log holds %q:\n%s", c.name, ip, out)
			}
		}
	}
}

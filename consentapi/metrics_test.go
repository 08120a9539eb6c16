package consentapi_test

import (
	"net/http"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crumbhq/crumb/consentapi"
)

// TestRateLimitedSeries: crumb_http_rate_limited_total exists at 0 for
// every rate-limited route before the first 429, so increase() counts the
// first one; a 429 on each route lands on one of those series.
func TestRateLimitedSeries(t *testing.T) {
	e := newEnv(t, func(o *consentapi.Options) { o.RateLimit, o.RateBurst = 1, 1 })
	series := func() map[string]float64 {
		t.Helper()
		families, err := e.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range families {
			if f.GetName() != "crumb_http_rate_limited_total" {
				continue
			}
			for _, m := range f.GetMetric() {
				got[labels(m)] = value(m)
			}
		}
		return got
	}
	routes := []string{
		"/v1/sites/:site/consents",
		"/v1/sites/:site/consents/:id",
		"/v1/sites/:site/consents/:id/export",
		"/v1/sites/:site/impressions",
		"/v1/sites/:site/declaration",
	}
	before := series()
	if len(before) != len(routes) {
		t.Errorf("before any request: %v, want %d series at 0", before, len(routes))
	}
	for _, r := range routes {
		if v, ok := before[`{route="`+r+`"}`]; !ok || v != 0 {
			t.Errorf("route %s: %v (present %v), want 0", r, v, ok)
		}
	}

	// The burst of 1 goes on the first request; every later one is refused.
	e.do(t, request{method: "POST", path: "/v1/sites/shop/impressions", body: `{"revision":1,"language":"sv"}`})
	for _, r := range []request{
		{method: "POST", path: "/v1/sites/shop/consents", body: `{}`},
		{method: "GET", path: "/v1/sites/shop/consents/AAAAAAAAAAAAAAAAAAAAAA"},
		{method: "GET", path: "/v1/sites/shop/consents/AAAAAAAAAAAAAAAAAAAAAA/export"},
		{method: "DELETE", path: "/v1/sites/shop/consents/AAAAAAAAAAAAAAAAAAAAAA"},
		{method: "POST", path: "/v1/sites/shop/impressions", body: `{"revision":1,"language":"sv"}`},
		{method: "GET", path: "/v1/sites/shop/declaration"},
	} {
		wantStatus(t, e.do(t, r), http.StatusTooManyRequests)
	}
	after := series()
	want := map[string]float64{
		`{route="/v1/sites/:site/consents"}`:            1,
		`{route="/v1/sites/:site/consents/:id"}`:        2,
		`{route="/v1/sites/:site/consents/:id/export"}`: 1,
		`{route="/v1/sites/:site/impressions"}`:         1,
		`{route="/v1/sites/:site/declaration"}`:         1,
	}
	if len(after) != len(want) {
		t.Errorf("after the 429s: %v, want only %v", after, want)
	}
	for k, v := range want {
		if after[k] != v {
			t.Errorf("crumb_http_rate_limited_total%s = %v, want %v", k, after[k], v)
		}
	}
}

func TestBuildInfoCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(consentapi.BuildInfoCollector("v1.2.3"))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != 1 || families[0].GetName() != "crumb_build_info" || len(families[0].GetMetric()) != 1 {
		t.Fatalf("families %v, want crumb_build_info alone", families)
	}
	m := families[0].GetMetric()[0]
	if got, want := labels(m), `{goversion="`+runtime.Version()+`",version="v1.2.3"}`; got != want || value(m) != 1 {
		t.Errorf("crumb_build_info%s = %v, want %s = 1", got, value(m), want)
	}
}

// TestAlertedSeriesAtStart: the consent API's series that configs/alerts.yml
// reads (schedule's TestAlertRules lists them) exist on a fresh server.
func TestAlertedSeriesAtStart(t *testing.T) {
	e := newEnv(t)
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range families {
		got[f.GetName()] = true
	}
	for _, name := range []string{"crumb_store_errors_total", "crumb_http_request_duration_seconds", "crumb_http_rate_limited_total"} {
		if !got[name] {
			t.Errorf("no %s on a fresh server", name)
		}
	}
}

package consentapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestWidgetServing checks crumb.js's own serving path (it bypasses the
// router): answers are timed in the request-duration metric under the
// route template, carry no per-request id (they are cached publicly), and
// every request it does not serve reaches the router as before.
func TestWidgetServing(t *testing.T) {
	e := newEnv(t)
	ok := e.do(t, request{method: "GET", path: "/v1/sites/shop/crumb.js", header: map[string]string{"Accept-Encoding": "br"}})
	wantStatus(t, ok, http.StatusOK)
	if id := ok.Header().Get("X-Request-Id"); id != "" {
		t.Errorf("crumb.js answered with X-Request-Id %q, want none on a cached public asset", id)
	}
	notModified := e.do(t, request{method: "GET", path: "/v1/sites/shop/crumb.js", header: map[string]string{"If-None-Match": ok.Header().Get("ETag")}})
	wantStatus(t, notModified, http.StatusNotModified)

	counts := map[string]uint64{}
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "crumb_http_request_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			counts[labels(m)] = m.GetHistogram().GetSampleCount()
		}
	}
	for status, want := range map[string]uint64{"200": 1, "304": 1} {
		key := `{method="GET",route="/v1/sites/:site/crumb.js",status="` + status + `"}`
		if got := counts[key]; got != want {
			t.Errorf("crumb_http_request_duration_seconds%s count = %d, want %d", key, got, want)
		}
	}

	tests := []struct {
		name, method, path string
		want               int
	}{
		{"unknown site", "GET", "/v1/sites/nope/crumb.js", http.StatusNotFound},
		{"wrong method", "POST", "/v1/sites/shop/crumb.js", http.StatusMethodNotAllowed},
		{"nested path", "GET", "/v1/sites/shop/x/crumb.js", http.StatusNotFound},
		{"no site", "GET", "/v1/sites//crumb.js", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(t, request{method: tt.method, path: tt.path})
			wantStatus(t, rec, tt.want)
			var body struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" {
				t.Errorf("%s %s: body %q, want a JSON error", tt.method, tt.path, rec.Body)
			}
			if rec.Header().Get("X-Request-Id") == "" {
				t.Errorf("%s %s: no X-Request-Id: not answered by the router", tt.method, tt.path)
			}
		})
	}
}

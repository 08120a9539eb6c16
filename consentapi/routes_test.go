package consentapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestHEAD: every read route answers HEAD as it answers GET (RFC 9110
// §9.3.2): the same status and headers, no body; errors too. A 405 lists
// HEAD in Allow where GET is, and only there; HEAD requests are labelled
// in the metrics by route template like GET's.
func TestHEAD(t *testing.T) {
	const day = "?from=2026-01-01&to=2026-01-02"
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnvOn(t, b.open(t))
			rec := e.do(t, request{method: "POST", path: "/v1/sites/shop/consents", body: e.decision(t, nil)})
			wantStatus(t, rec, http.StatusCreated)
			id := decode[answer](t, rec).ConsentID
			srv := httptest.NewServer(e.srv)
			t.Cleanup(srv.Close)

			tests := []struct {
				name   string
				path   string
				header map[string]string
				status int
			}{
				{"crumb.js", "/v1/sites/shop/crumb.js", nil, http.StatusOK},
				{"crumb.js, gzip", "/v1/sites/shop/crumb.js", map[string]string{"Accept-Encoding": "gzip"}, http.StatusOK},
				{"consent", "/v1/sites/shop/consents/" + id, nil, http.StatusOK},
				{"consent unknown", "/v1/sites/shop/consents/AAAAAAAAAAAAAAAAAAAAAA", nil, http.StatusNotFound},
				{"export", "/v1/sites/shop/consents/" + id + "/export", nil, http.StatusOK},
				{"declaration", "/v1/sites/shop/declaration", nil, http.StatusOK},
				{"admin stats", "/v1/admin/sites/shop/stats" + day, admin, http.StatusOK},
				{"admin stats without token", "/v1/admin/sites/shop/stats" + day, nil, http.StatusUnauthorized},
				{"admin proofs", "/v1/admin/sites/shop/proofs" + day, admin, http.StatusOK},
				{"admin export", "/v1/admin/sites/shop/consents/" + id + "/export", admin, http.StatusOK},
				{"admin scans", "/v1/admin/sites/shop/scans", admin, http.StatusOK},
				{"admin latest scan", "/v1/admin/sites/shop/scans/latest", admin, http.StatusNotFound},
				{"admin overrides", "/v1/admin/sites/shop/overrides", admin, http.StatusOK},
				{"admin scan settings", "/v1/admin/sites/shop/scan-settings", admin, http.StatusOK},
				{"demo", "/", nil, http.StatusOK},
				{"demo file", "/demo/demo.css", nil, http.StatusOK},
				{"healthz", "/healthz", nil, http.StatusOK},
				{"readyz", "/readyz", nil, http.StatusOK},
				{"metrics", "/metrics", admin, http.StatusOK},
			}
			send := func(t *testing.T, method, path string, header map[string]string) (*http.Response, []byte) {
				t.Helper()
				req, err := http.NewRequest(method, srv.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range header {
					req.Header.Set(k, v)
				}
				res, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				body, err := io.ReadAll(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				return res, body
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					// HEAD first, then GET on the same kept-alive connection: a
					// body sent after a HEAD answer would garble the GET's.
					head, headBody := send(t, http.MethodHead, tt.path, tt.header)
					get, getBody := send(t, http.MethodGet, tt.path, tt.header)
					if get.StatusCode != tt.status {
						t.Fatalf("GET status=%d, want %d; body=%s", get.StatusCode, tt.status, getBody)
					}
					if head.StatusCode != tt.status {
						t.Fatalf("HEAD status=%d, want %d as GET", head.StatusCode, tt.status)
					}
					if len(headBody) != 0 {
						t.Errorf("HEAD answered a body: %q", headBody)
					}
					for _, h := range []string{"Content-Type", "Cache-Control", "Content-Disposition", "Content-Encoding", "Etag", "Vary", "Allow", "Www-Authenticate", "Content-Security-Policy"} {
						if g, h2 := get.Header.Values(h), head.Header.Values(h); !slices.Equal(g, h2) {
							t.Errorf("%s: HEAD %q, GET %q", h, h2, g)
						}
					}
					if cl := head.Header.Get("Content-Length"); cl != "" && get.Header.Get("Content-Length") != "" && cl != get.Header.Get("Content-Length") {
						t.Errorf("Content-Length: HEAD %s, GET %s", cl, get.Header.Get("Content-Length"))
					}
				})
			}

			allow := []struct {
				method, path string
				want         []string // in Allow
				not          []string
			}{
				{"PUT", "/v1/sites/shop/consents/" + id, []string{"GET", "HEAD", "DELETE"}, nil},
				{"PUT", "/v1/sites/shop/consents", []string{"POST"}, []string{"GET", "HEAD"}},
				{"POST", "/v1/sites/shop/crumb.js", []string{"GET", "HEAD"}, nil},
				{"POST", "/healthz", []string{"GET", "HEAD"}, nil},
				{"DELETE", "/v1/admin/sites/shop/proofs", []string{"GET", "HEAD"}, nil},
			}
			for _, a := range allow {
				t.Run("405 "+a.method+" "+a.path, func(t *testing.T) {
					res, body := send(t, a.method, a.path, admin)
					if res.StatusCode != http.StatusMethodNotAllowed {
						t.Fatalf("status=%d, want 405; body=%s", res.StatusCode, body)
					}
					got := strings.Split(strings.ReplaceAll(res.Header.Get("Allow"), " ", ""), ",")
					for _, m := range a.want {
						if !slices.Contains(got, m) {
							t.Errorf("Allow %q has no %s", got, m)
						}
					}
					for _, m := range a.not {
						if slices.Contains(got, m) {
							t.Errorf("Allow %q has %s", got, m)
						}
					}
				})
			}

			// HEAD requests are labelled by route template, never a raw path.
			families, err := e.reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			heads := 0
			for _, f := range families {
				if f.GetName() != "crumb_http_request_duration_seconds" {
					continue
				}
				for _, m := range f.GetMetric() {
					if strings.Contains(labels(m), id) {
						t.Errorf("a series names a consent id: %s", labels(m))
					}
					if strings.Contains(labels(m), `method="HEAD"`) && strings.Contains(labels(m), `route="/v1/sites/:site/consents/:id"`) {
						heads++
					}
				}
			}
			if heads == 0 {
				t.Error("no HEAD series for /v1/sites/:site/consents/:id")
			}
		})
	}
}

package consentapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

func TestWidgetScript(t *testing.T) {
	e := newEnv(t)
	plain := e.do(t, request{method: "GET", path: "/v1/sites/shop/crumb.js"})
	wantStatus(t, plain, http.StatusOK)
	js := plain.Body.Bytes()
	banner, _ := e.srv.Banner("shop")
	if !bytes.Contains(js, []byte(banner.Banner)) || !bytes.Contains(js, []byte("Shop AB")) {
		t.Fatalf("crumb.js lacks the site's banner %s", banner.Banner)
	}
	etag := plain.Header().Get("ETag")
	for k, want := range map[string]string{
		"Content-Type":           "text/javascript; charset=utf-8",
		"Cache-Control":          "public, max-age=300, must-revalidate",
		"Vary":                   "Accept-Encoding",
		"X-Content-Type-Options": "nosniff",
		"Content-Encoding":       "",
	} {
		if got := plain.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if len(etag) < 10 || etag[0] != '"' {
		t.Errorf("ETag = %q, want a strong quoted tag", etag)
	}

	tests := []struct {
		name, accept, wantEncoding string
		decode                     func(io.Reader) io.Reader
	}{
		{"brotli preferred", "gzip, deflate, br", "br", func(r io.Reader) io.Reader { return brotli.NewReader(r) }},
		{"gzip", "gzip", "gzip", func(r io.Reader) io.Reader { z, _ := gzip.NewReader(r); return z }},
		{"br refused with q=0", "br;q=0, gzip;q=0.5", "gzip", func(r io.Reader) io.Reader { z, _ := gzip.NewReader(r); return z }},
		{"identity", "identity", "", func(r io.Reader) io.Reader { return r }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(t, request{method: "GET", path: "/v1/sites/shop/crumb.js", header: map[string]string{"Accept-Encoding": tt.accept}})
			wantStatus(t, rec, http.StatusOK)
			if got := rec.Header().Get("Content-Encoding"); got != tt.wantEncoding {
				t.Fatalf("Content-Encoding = %q, want %q", got, tt.wantEncoding)
			}
			if got := rec.Header().Get("Content-Length"); got != itoa(int64(rec.Body.Len())) {
				t.Errorf("Content-Length = %s for %d bytes", got, rec.Body.Len())
			}
			body, err := io.ReadAll(tt.decode(rec.Body))
			if err != nil || !bytes.Equal(body, js) {
				t.Fatalf("decoded body differs from the plain one (%v)", err)
			}
			if tt.wantEncoding != "" && rec.Body.Len() >= len(js)/2 {
				t.Errorf("%s body is %d bytes of %d: not compressed", tt.wantEncoding, rec.Body.Len(), len(js))
			}
			if got := rec.Header().Get("ETag"); got != etag {
				t.Errorf("ETag = %s, want the same %s for every encoding", got, etag)
			}
		})
	}

	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		rec := e.do(t, request{method: "GET", path: "/v1/sites/shop/crumb.js", header: map[string]string{"If-None-Match": inm}})
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("If-None-Match %s: %d with %d bytes, want 304 and no body", inm, rec.Code, rec.Body.Len())
		}
	}
	if rec := e.do(t, request{method: "GET", path: "/v1/sites/shop/crumb.js", header: map[string]string{"If-None-Match": `"stale"`}}); rec.Code != http.StatusOK {
		t.Errorf("a stale ETag got %d, want 200", rec.Code)
	}

	rec := e.do(t, request{method: "GET", path: "/v1/sites/nope/crumb.js"})
	wantStatus(t, rec, http.StatusNotFound)
	if !strings.Contains(rec.Body.String(), `"error"`) {
		t.Errorf("unknown site body = %s, want a JSON error", rec.Body)
	}

	// A raised revision changes the script and its ETag at once.
	if err := e.srv.RaiseRevision(context.Background(), "shop", 2); err != nil {
		t.Fatal(err)
	}
	raised := e.do(t, request{method: "GET", path: "/v1/sites/shop/crumb.js", header: map[string]string{"If-None-Match": etag}})
	wantStatus(t, raised, http.StatusOK)
	if raised.Header().Get("ETag") == etag || !bytes.Contains(raised.Body.Bytes(), []byte(`\"revision\":2`)) {
		t.Errorf("after raising the revision: ETag %s (was %s); want a new script with revision 2", raised.Header().Get("ETag"), etag)
	}
}

func TestDemoPage(t *testing.T) {
	e := newEnv(t)
	rec := e.do(t, request{method: "GET", path: "/"})
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	for _, want := range []string{`<script src="/v1/sites/shop/crumb.js"></script>`, `data-crumb-category="analytics"`, `data-crumb-category="marketing"`, `data-crumb-src="/demo/video.html"`, `lang="sv"`} {
		if !strings.Contains(body, want) {
			t.Errorf("demo page lacks %s", want)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("demo CSP = %q, want a strict one", csp)
	}
	for path, want := range map[string]int{"/demo/demo.js": 200, "/demo/analytics.js": 200, "/demo/demo.css": 200, "/demo/index.html": 404, "/demo/nope.js": 404} {
		if rec := e.do(t, request{method: "GET", path: path}); rec.Code != want {
			t.Errorf("GET %s = %d, want %d", path, rec.Code, want)
		}
	}
}

// BenchmarkWidgetVsHealthz measures the throughput of GET crumb.js
// (brotli, as browsers ask) and of GET /healthz over real HTTP, each from
// 32 concurrent keep-alive clients, alternating in one run, and reports
// crumb.js's requests per second as a fraction of healthz's (target 0.8).
// For reference it measures a bare net/http handler writing the very same
// answer (headers and body) against one writing "ok\n": that ratio is what
// Go's HTTP server allows for an answer of this size at all.
func BenchmarkWidgetVsHealthz(b *testing.B) {
	e := newEnv(b)
	ts := httptest.NewServer(e.srv)
	defer ts.Close()
	load := newLoad(b, ts.URL)
	load.burst("/v1/sites/shop/crumb.js", 64) // render and compress once, open the connections

	// The reference: the same bytes from a bare handler.
	req := httptest.NewRequest("GET", "/v1/sites/shop/crumb.js", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("ok\n"))
			return
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Write(rec.Body.Bytes())
	}))
	defer bare.Close()
	floor := newLoad(b, bare.URL)
	floor.burst("/js", 64)

	var widget, health, bareJS, bareOK time.Duration
	for b.Loop() {
		health += load.burst("/healthz", 640)
		widget += load.burst("/v1/sites/shop/crumb.js", 640)
		bareOK += floor.burst("/healthz", 640)
		bareJS += floor.burst("/js", 640)
	}
	b.ReportMetric(float64(health)/float64(widget), "crumbjs/healthz")
	b.ReportMetric(float64(bareOK)/float64(bareJS), "bare-js/bare-ok")
}

// load sends GET requests from 32 keep-alive clients.
type load struct {
	b      *testing.B
	base   string
	client *http.Client
}

const loadClients = 32

func newLoad(b *testing.B, base string) *load {
	return &load{b: b, base: base, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadClients}}}
}

// burst sends n requests for path from the clients and returns how long
// they took.
func (l *load) burst(path string, n int) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Value
	for c := range loadClients {
		wg.Go(func() {
			for i := c; i < n; i += loadClients {
				req, _ := http.NewRequest("GET", l.base+path, nil)
				req.Header.Set("Accept-Encoding", "gzip, deflate, br")
				resp, err := l.client.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Store(fmt.Errorf("GET %s: %d", path, resp.StatusCode))
					return
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		l.b.Fatal(err)
	}
	return time.Since(start)
}

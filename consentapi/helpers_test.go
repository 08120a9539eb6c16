package consentapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/localstore"
	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/widget"
	"github.com/prometheus/client_golang/prometheus"
)

const adminToken = "test-admin-token"

// env is a server on a fresh store.
type env struct {
	srv *consentapi.Server
	// store is the embedded store of newEnv (nil on another backend);
	// backend is the store whatever it is.
	store   *localstore.Store
	backend store.Store
	reg     *prometheus.Registry
}

// newEnv starts a server on testdata/sites.yaml and a fresh embedded
// store; edit adjusts the options.
func newEnv(tb testing.TB, edit ...func(*consentapi.Options)) *env {
	tb.Helper()
	st := openEmbedded(tb)
	e := newEnvOn(tb, st, edit...)
	e.store = st
	return e
}

// backends are the stores the public API tests run on: a fresh one each
// call of open.
var backends = []struct {
	name string
	open func(tb testing.TB) store.Store
}{
	{"embedded", func(tb testing.TB) store.Store { return openEmbedded(tb) }},
	{"redis", func(tb testing.TB) store.Store {
		srv := redistest.Start(tb)
		c, err := redisstore.Dial(srv.URL())
		if err != nil {
			tb.Fatal(err)
		}
		st, err := redisstore.New(context.Background(), c, redisstore.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { st.Close() })
		return st
	}},
}

func openEmbedded(tb testing.TB) *localstore.Store {
	tb.Helper()
	st, err := localstore.Open(filepath.Join(tb.TempDir(), "crumb.db"), localstore.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// newEnvOn starts a server on testdata/sites.yaml and st.
func newEnvOn(tb testing.TB, st store.Store, edit ...func(*consentapi.Options)) *env {
	tb.Helper()
	cfg, err := siteconfig.Load("testdata/sites.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	opts := consentapi.Options{
		Sites:      cfg,
		AdminToken: adminToken,
		RateLimit:  -1,
		Registry:   prometheus.NewRegistry(),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if t, ok := tb.(*testing.T); ok {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	for _, e := range edit {
		e(&opts)
	}
	srv, err := consentapi.NewServer(context.Background(), opts, st)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{srv: srv, backend: st, reg: opts.Registry}
}

// request describes one call.
type request struct {
	method, path, body string
	origin, ctype      string // ctype defaults to application/json when there is a body
	host               string // default api.crumb.example
	header             map[string]string
	ctx                context.Context // the request's context; default none
}

func (e *env) do(tb testing.TB, r request) *httptest.ResponseRecorder {
	tb.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if r.ctx != nil {
		req = req.WithContext(r.ctx)
	}
	req.Host = "api.crumb.example"
	if r.host != "" {
		req.Host = r.host
	}
	if r.body != "" && r.ctype == "" {
		r.ctype = "application/json"
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	if r.origin != "" {
		req.Header.Set("Origin", r.origin)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0")
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

// decision returns a valid decision body for site shop, with changes.
func (e *env) decision(tb testing.TB, changes map[string]any) string {
	tb.Helper()
	b, _ := e.srv.Banner("shop")
	m := map[string]any{
		"event_id":       "evt-0123456789abcdef",
		"action":         "custom",
		"categories":     map[string]any{"necessary": true, "analytics": true, "marketing": false},
		"revision":       1,
		"banner":         b.Banner,
		"language":       "sv",
		"widget_version": e.srv.WidgetVersion(),
	}
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}

// answer is the consent answer.
type answer struct {
	ConsentID  string          `json:"consent_id"`
	EventID    string          `json:"event_id"`
	RecordedAt string          `json:"recorded_at"`
	ExpiresAt  string          `json:"expires_at"`
	Categories map[string]bool `json:"categories"`
	Action     store.Action    `json:"action"`
	Revision   int             `json:"revision"`
	Language   string          `json:"language"`
	Banner     string          `json:"banner"`
	Source     store.Source    `json:"source"`
}

func decode[T any](tb testing.TB, rec *httptest.ResponseRecorder) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		tb.Fatalf("decode %s: %v", rec.Body, err)
	}
	return v
}

func wantStatus(tb testing.TB, rec *httptest.ResponseRecorder, want int) {
	tb.Helper()
	if got := rec.Code; got != want {
		tb.Fatalf("status=%d, want %d; body=%s", got, want, rec.Body)
	}
}

// httptestRequestFrom sends r as if from the peer address addr.
func httptestRequestFrom(e *env, r request, addr string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	req.RemoteAddr = addr
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

func decodeBanner(tb testing.TB, raw json.RawMessage) widget.Config {
	tb.Helper()
	var cfg widget.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		tb.Fatal(err)
	}
	return cfg
}

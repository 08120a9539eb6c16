package widget_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crumbhq/crumb/widget"
)

// testSite is a fixture website with the banner and a test double of
// crumb's own consent API (the contract in notes/common.md: POST consents,
// export, erase, impressions), which records what the banner sends. It is
// one server, so the API is on the page's origin, as behind a reverse proxy.
type testSite struct {
	tb     testing.TB
	bundle *widget.Bundle
	srv    *httptest.Server

	mu          sync.Mutex
	cfg         widget.Config
	down        bool   // the API drops every connection, as if unreachable
	refuse      string // the API answers decisions of this action 503, as in a failover
	consents    []consentRequest
	replies     map[string]consentReply // by event_id
	impressions []impressionRequest
	erasures    []string // consent ids
	fetched     []string // paths of fixture files served, in order
}

type consentRequest struct {
	EventID       string          `json:"event_id"`
	ConsentID     string          `json:"consent_id,omitempty"`
	Action        string          `json:"action"`
	Categories    map[string]bool `json:"categories"`
	Revision      int             `json:"revision"`
	Banner        string          `json:"banner"`
	Language      string          `json:"language"`
	WidgetVersion string          `json:"widget_version"`
	// Source is the decision's source as sent: nil when the key is left
	// out; the raw JSON otherwise, so that null is told apart.
	Source json.RawMessage `json:"source,omitempty"`
}

// source returns the decision's source, "" when it has none.
func (r consentRequest) source() string {
	var s string
	json.Unmarshal(r.Source, &s)
	return s
}

// sources are the values the service accepts in a decision's optional
// source; anything else, null and "" included, is a 400.
var sources = []string{"banner", "settings", "placeholder", "script"}

type consentReply struct {
	ConsentID  string          `json:"consent_id"`
	EventID    string          `json:"event_id"`
	RecordedAt string          `json:"recorded_at"`
	ExpiresAt  string          `json:"expires_at"`
	Categories map[string]bool `json:"categories"`
	Action     string          `json:"action"`
	Revision   int             `json:"revision"`
}

type impressionRequest struct {
	Revision int    `json:"revision"`
	Language string `json:"language"`
	cookie   string // the Cookie header it came with
}

var (
	eventIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)
	actions        = []string{"accept_all", "reject_all", "custom", "withdraw", "gpc"}
)

// newTestSite serves testdata/ and the API for cfg.
func newTestSite(tb testing.TB, bundle *widget.Bundle, cfg widget.Config) *testSite {
	tb.Helper()
	s := &testSite{tb: tb, bundle: bundle, cfg: cfg, replies: map[string]consentReply{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/sites/{site}/crumb.js", s.script)
	mux.HandleFunc("POST /v1/sites/{site}/consents", s.api(s.consent))
	mux.HandleFunc("GET /v1/sites/{site}/consents/{id}/export", s.api(s.export))
	mux.HandleFunc("DELETE /v1/sites/{site}/consents/{id}", s.api(s.erase))
	mux.HandleFunc("POST /v1/sites/{site}/impressions", s.api(s.impression))
	mux.HandleFunc("GET /pixel.gif", s.file(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	}))
	files := http.FileServerFS(os.DirFS("testdata"))
	mux.HandleFunc("GET /", s.file(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/analytics.js" {
			time.Sleep(150 * time.Millisecond) // a slow tag must still run first
		}
		if strings.HasPrefix(r.URL.Path, "/strict-") {
			w.Header().Set("Content-Security-Policy", "script-src 'self'; style-src 'self'")
		}
		files.ServeHTTP(w, r)
	}))
	s.srv = httptest.NewServer(cors(mux))
	tb.Cleanup(s.srv.Close)
	return s
}

// crossOrigin serves the same site from a second origin, for a config whose
// API is not on the page's origin.
func (s *testSite) crossOrigin() string {
	api := httptest.NewServer(s.srv.Config.Handler)
	s.tb.Cleanup(api.Close)
	return api.URL
}

// cors lets any origin call the API, as the service does for a site's
// configured origins.
func cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" {
			w.Header().Set("Access-Control-Allow-Origin", o)
			if r.Method == http.MethodOptions {
				w.Header().Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
				w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// url returns the address of a fixture page.
func (s *testSite) url(path string) string { return s.srv.URL + path }

func (s *testSite) set(f func(cfg *widget.Config)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.cfg)
}

// setRefuse makes the API answer decisions of action 503 ("" for none).
func (s *testSite) setRefuse(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = action
}

func (s *testSite) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func (s *testSite) script(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	js, err := s.bundle.Script(cfg)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(js)
}

// file records which fixture files the browser fetched.
func (s *testSite) file(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.fetched = append(s.fetched, r.URL.Path)
		s.mu.Unlock()
		h(w, r)
	}
}

// api wraps an API handler: it drops the connection while the API is down
// and answers errors as the contract's JSON.
func (s *testSite) api(h func(r *http.Request) (int, any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		down, site := s.down, s.cfg.Site
		s.mu.Unlock()
		if down {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		if r.PathValue("site") != site {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown site"})
			return
		}
		code, body := h(r)
		if reply, ok := body.(sameOriginReply); ok {
			if reply.cookie != nil {
				http.SetCookie(w, reply.cookie)
			}
			body = reply.consentReply
		}
		writeJSON(w, code, body)
	}
}

// sameOriginReply is a consent reply that also sets the consent cookie.
type sameOriginReply struct {
	consentReply
	cookie *http.Cookie
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	if body == nil {
		w.WriteHeader(code)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}

func apiError(code int, field, format string, args ...any) (int, any) {
	return code, map[string]string{"error": fmt.Sprintf(format, args...), "field": field}
}

func (s *testSite) consent(r *http.Request) (int, any) {
	if r.Header.Get("Content-Type") != "application/json" {
		return apiError(http.StatusUnsupportedMediaType, "", "want Content-Type application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 4096))
	dec.DisallowUnknownFields()
	var req consentRequest
	if err := dec.Decode(&req); err != nil {
		return apiError(http.StatusBadRequest, "", "decode: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.Action == s.refuse {
		return apiError(http.StatusServiceUnavailable, "", "storage is unavailable; retry with the same event_id")
	}
	switch {
	case !eventIDPattern.MatchString(req.EventID):
		return apiError(http.StatusBadRequest, "event_id", "want 16-64 of [A-Za-z0-9_-]")
	case !slices.Contains(actions, req.Action):
		return apiError(http.StatusBadRequest, "action", "unknown action %q", req.Action)
	case req.Source != nil && !slices.Contains(sources, req.source()):
		return apiError(http.StatusBadRequest, "source", "source %s: want one of %v, or none", req.Source, sources)
	case len(req.Categories) != len(s.cfg.Categories):
		return apiError(http.StatusBadRequest, "categories", "want every site category, got %v", req.Categories)
	}
	// The service's rules: necessary is always granted, accept_all grants
	// everything, reject_all refuses everything, withdraw refuses at least
	// one category, gpc refuses the GPC categories.
	for _, c := range s.cfg.Categories {
		granted, ok := req.Categories[c.ID]
		switch {
		case !ok:
			return apiError(http.StatusBadRequest, "categories", "missing %s", c.ID)
		case c.Locked && !granted,
			!c.Locked && req.Action == "accept_all" && !granted,
			!c.Locked && req.Action == "reject_all" && granted,
			req.Action == "gpc" && granted && slices.Contains(s.cfg.GPC, c.ID):
			return apiError(http.StatusBadRequest, "categories."+c.ID, "%s may not set %s to %v", req.Action, c.ID, granted)
		}
	}
	if req.Action == "withdraw" && !slices.Contains(slices.Collect(maps.Values(req.Categories)), false) {
		return apiError(http.StatusBadRequest, "categories", "withdraw refuses at least one category")
	}
	if reply, ok := s.replies[req.EventID]; ok {
		return http.StatusOK, reply
	}
	id := req.ConsentID
	if id == "" {
		b := make([]byte, 16)
		rand.Read(b)
		id = base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now().UTC()
	reply := consentReply{
		ConsentID: id, EventID: req.EventID, Categories: req.Categories, Action: req.Action, Revision: req.Revision,
		RecordedAt: now.Format(time.RFC3339), ExpiresAt: now.Add(time.Duration(s.cfg.Validity) * time.Second).Format(time.RFC3339),
	}
	s.consents = append(s.consents, req)
	s.replies[req.EventID] = reply
	out := sameOriginReply{consentReply: reply}
	if o, err := url.Parse(r.Header.Get("Origin")); err == nil && o.Host == r.Host {
		var granted []string
		for _, c := range s.cfg.Categories {
			if !c.Locked && req.Categories[c.ID] {
				granted = append(granted, c.ID)
			}
		}
		value := strings.Join(granted, "+")
		if value == "" {
			value = "-"
		}
		out.cookie = &http.Cookie{
			Name: "crumb_consent", Value: fmt.Sprintf("1.%s.%d.%s.%d", id, req.Revision, value, now.Unix()),
			Path: "/", MaxAge: int(s.cfg.Validity), SameSite: http.SameSiteLaxMode, Domain: s.cfg.CookieDomain,
		}
	}
	return http.StatusCreated, out
}

func (s *testSite) impression(r *http.Request) (int, any) {
	req := impressionRequest{cookie: r.Header.Get("Cookie")}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return apiError(http.StatusBadRequest, "", "decode: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.impressions = append(s.impressions, req)
	return http.StatusNoContent, nil
}

func (s *testSite) export(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	var records []consentReply
	for _, reply := range s.replies {
		if reply.ConsentID == id {
			records = append(records, reply)
		}
	}
	return http.StatusOK, map[string]any{"consent_id": id, "site": s.cfg.Site, "records": records, "banners": map[string]any{}}
}

func (s *testSite) erase(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.erasures = append(s.erasures, r.PathValue("id"))
	return http.StatusNoContent, nil
}

// recorded returns a copy of the decisions the API has recorded.
func (s *testSite) recorded() []consentRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.consents)
}

// waitRecorded waits until the API has recorded n decisions and returns them.
func (s *testSite) waitRecorded(n int) []consentRequest {
	s.tb.Helper()
	s.waitFor(fmt.Sprintf("%d recorded decisions", n), func() bool { return len(s.recorded()) >= n })
	return s.recorded()
}

// waitFor waits until done reports true, or fails the test after 10 seconds.
func (s *testSite) waitFor(what string, done func() bool) {
	s.tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); !done(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			s.tb.Fatalf("gave up waiting for %s", what)
		}
	}
}

// fetchedAny reports whether the browser fetched any of paths.
func (s *testSite) fetchedAny(paths ...string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hit []string
	for _, p := range s.fetched {
		if slices.Contains(paths, p) {
			hit = append(hit, p)
		}
	}
	return hit
}

package consentapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/crumbhq/crumb/widget"
	"github.com/labstack/echo/v4"
)

// widgetCacheControl lets browsers and CDNs keep crumb.js for five minutes,
// then revalidate with the ETag: a changed banner or a raised revision
// reaches visitors within minutes, and a revalidation costs a 304.
const widgetCacheControl = "public, max-age=300, must-revalidate"

// widgetServer serves each site's crumb.js: the widget bundle with the
// site's current banner inlined, rendered and compressed (gzip and brotli)
// once per banner, so a request only picks a body.
type widgetServer struct {
	bundle  *widget.Bundle
	mu      sync.Mutex // serialises rendering
	scripts map[string]*atomic.Pointer[widgetScript]
}

// widgetScript is one site's rendered crumb.js with its answer headers,
// prepared once so that a request allocates nothing to answer.
type widgetScript struct {
	banner          string // the banner hash it was rendered for
	etag            string
	raw, gz, br     []byte
	headers         []widgetHeader // every answer
	rawLen, gzLen   []string       // Content-Length values
	brLen, gzEncode []string
	brEncode        []string
}

// widgetHeader is one prepared header of crumb.js's answers. The values
// are shared by every answer: nothing downstream modifies them.
type widgetHeader struct {
	key   string // canonical
	value []string
}

// newWidgetServer builds the widget bundle; a build error stops the server
// from starting.
func newWidgetServer(sites map[string]*site) (*widgetServer, error) {
	b, err := widget.Build()
	if err != nil {
		return nil, err
	}
	w := &widgetServer{bundle: b, scripts: map[string]*atomic.Pointer[widgetScript]{}}
	for id := range sites {
		w.scripts[id] = new(atomic.Pointer[widgetScript])
	}
	return w, nil
}

// script returns si's crumb.js for its current banner, rendering it when
// the banner has changed since the last request.
func (w *widgetServer) script(si *site) (*widgetScript, error) {
	cfg := si.state.Load().banner
	slot := w.scripts[si.cfg.ID]
	if js := slot.Load(); js != nil && js.banner == cfg.Banner {
		return js, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if js := slot.Load(); js != nil && js.banner == cfg.Banner {
		return js, nil
	}
	raw, err := w.bundle.Script(cfg)
	if err != nil {
		return nil, fmt.Errorf("render crumb.js for %s: %w", si.cfg.ID, err)
	}
	sum := sha256.Sum256(raw)
	js := &widgetScript{banner: cfg.Banner, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, raw: raw}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(raw)
	zw.Close()
	js.gz = bytes.Clone(buf.Bytes())
	buf.Reset()
	bw := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	bw.Write(raw)
	bw.Close()
	js.br = bytes.Clone(buf.Bytes())
	js.headers = []widgetHeader{
		{"Cache-Control", []string{widgetCacheControl}},
		{"Etag", []string{js.etag}},
		{"Vary", []string{"Accept-Encoding"}},
		{"X-Content-Type-Options", []string{"nosniff"}},
		{"Access-Control-Allow-Origin", []string{"*"}}, // a public script: pages may load it with crossorigin
		{"Content-Type", []string{"text/javascript; charset=utf-8"}},
	}
	js.rawLen, js.gzLen, js.brLen = []string{strconv.Itoa(len(js.raw))}, []string{strconv.Itoa(len(js.gz))}, []string{strconv.Itoa(len(js.br))}
	js.gzEncode, js.brEncode = []string{"gzip"}, []string{"br"}
	slot.Store(js)
	return js, nil
}

// handleWidget serves GET /v1/sites/{site}/crumb.js through the router
// when serveWidget cannot: the banner script with the site's config,
// precompressed, with an ETag answered by 304.
func (s *Server) handleWidget(c echo.Context) error {
	si, ok := s.sites[c.Param("site")]
	if !ok {
		return errStatus(http.StatusNotFound, "unknown site %q", c.Param("site"))
	}
	js, err := s.widget.script(si)
	if err != nil {
		return err
	}
	_, err = js.answer(c.Response(), c.Request())
	return err
}

// widgetRoute is crumb.js's route template, as the metrics and the log
// name it.
const widgetRoute = "/v1/sites/:site/crumb.js"

// serveWidget answers GET /v1/sites/{site}/crumb.js, the hottest public
// path (every page view of every site), without the router and its
// middleware: it records the duration metric itself, with the series
// resolved once, and logs like observe. Unlike the API's answers it sets
// no X-Request-Id: the answer is public and cached (by browsers, proxies
// and CDNs for five minutes), so a per-request id would be replayed to
// other visitors and correlate nothing. It reports false, having written
// nothing, when the request is not a crumb.js of a known site whose script
// is ready; the router then answers it (404, 405, a render error).
func (s *Server) serveWidget(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet || r.URL.RawPath != "" {
		return false
	}
	id, ok := widgetSite(r.URL.Path)
	if !ok {
		return false
	}
	si, ok := s.sites[id]
	if !ok {
		return false
	}
	start := time.Now()
	js, err := s.widget.script(si)
	if err != nil {
		return false
	}
	status, _ := js.answer(w, r)
	took := time.Since(start)
	s.metrics.observeWidget(status, took)
	if level := levelFor(status); s.logger.Enabled(r.Context(), level) {
		s.logger.Log(r.Context(), level, "request", "method", r.Method, "route", widgetRoute,
			"status", status, "duration_ms", float64(took.Microseconds())/1000)
	}
	return true
}

// widgetSite returns the site id of a path /v1/sites/{site}/crumb.js.
func widgetSite(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/v1/sites/")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/crumb.js")
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// answer writes js as the answer to r: 304 when r's If-None-Match names
// its ETag, else 200 with the body in the best encoding r accepts. The
// headers are prepared with the script and shared by every answer, so the
// answer costs little more than healthz's.
func (js *widgetScript) answer(w http.ResponseWriter, r *http.Request) (int, error) {
	h := w.Header()
	for _, kv := range js.headers {
		h[kv.key] = kv.value
	}
	if inm := r.Header["If-None-Match"]; len(inm) > 0 && etagMatch(inm[0], js.etag) {
		delete(h, "Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified, nil
	}
	body, length := js.raw, js.rawLen
	switch acceptEncoding(r.Header.Get("Accept-Encoding")) {
	case "br":
		body, length = js.br, js.brLen
		h["Content-Encoding"] = js.brEncode
	case "gzip":
		body, length = js.gz, js.gzLen
		h["Content-Encoding"] = js.gzEncode
	}
	h["Content-Length"] = length
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return http.StatusOK, err
}

// etagMatch reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match) or is "*".
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptEncoding picks br, else gzip, else "" (identity) from an
// Accept-Encoding header; a coding with q=0 is refused.
func acceptEncoding(header string) string {
	var gz bool
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ",")
		coding, params, _ := strings.Cut(part, ";")
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(q), 64); err == nil && v == 0 {
				continue
			}
		}
		switch coding = strings.TrimSpace(coding); {
		case strings.EqualFold(coding, "br"):
			return "br"
		case strings.EqualFold(coding, "gzip"), coding == "*":
			gz = true
		}
	}
	if gz {
		return "gzip"
	}
	return ""
}

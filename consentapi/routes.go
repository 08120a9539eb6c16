package consentapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists every route, by audience. Read routes are added with get,
// never with GET alone, so that each answers HEAD too.
func (s *Server) routes() {
	e := s.e

	// Visitors: called by the banner from the site's pages (CORS per site).
	// (Middleware is given per route, not per group: a group with
	// middleware would answer unknown paths and methods through it.)
	// crumb.js is a public, cached script: no CORS check, no rate limit.
	v := e.Group("/v1/sites/:site")
	get(v, "/crumb.js", s.handleWidget)
	v.POST("/consents", s.handleConsentCreate, s.public)
	get(v, "/consents/:id", s.handleConsentGet, s.public)
	get(v, "/consents/:id/export", s.handleConsentExport, s.public)
	v.DELETE("/consents/:id", s.handleConsentErase, s.public)
	v.POST("/impressions", s.handleImpression, s.public)
	for _, p := range []string{"/consents", "/consents/:id", "/consents/:id/export", "/impressions"} {
		v.OPTIONS(p, preflightDone, s.public)
	}

	// Site owners and auditors: bearer CRUMB_ADMIN_TOKEN.
	a := e.Group("/v1/admin/sites/:site")
	admin := []echo.MiddlewareFunc{requireToken(s.opts.AdminToken), s.adminSite}
	get(a, "/stats", s.handleStats, admin...)
	get(a, "/proofs", s.handleProofs, admin...)
	get(a, "/consents/:id/export", s.handleConsentExport, admin...)
	a.DELETE("/consents/:id", s.handleConsentErase, admin...)
	s.scanRoutes(a, admin)

	// The demo site (demo.go).
	get(e, "/", s.handleDemo)
	get(e, "/demo/:file", s.handleDemoFile)

	// Operations.
	get(e, "/healthz", s.handleHealthz) // load balancers send HEAD too
	get(e, "/readyz", s.handleReadyz)
	metricsToken := s.opts.MetricsToken
	if metricsToken == "" {
		metricsToken = s.opts.AdminToken
	}
	get(e, "/metrics", echo.WrapHandler(promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{})), requireToken(metricsToken))
}

// router is what routes are added to: the *echo.Echo or one of its groups.
type router interface {
	Match(methods []string, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) []*echo.Route
}

// readMethods are the methods of a read route: HEAD wherever GET (RFC 9110
// §9.3.2).
var readMethods = []string{http.MethodGet, http.MethodHead}

// get adds a read route, for GET and HEAD: the one handler answers both,
// and net/http sends no body to a HEAD, only the headers GET would get
// (Content-Length included when the body is small enough to buffer). The
// route template, and so the metrics' route label, is the same for both,
// and a 405 on the path lists both in Allow.
func get(r router, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	r.Match(readMethods, path, h, m...)
}

// preflightDone is never reached: public answers preflights itself.
func preflightDone(c echo.Context) error { return c.NoContent(http.StatusNoContent) }

// newEcho makes the router with the error handler, client-IP extraction
// and the observe middleware.
func (s *Server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(s.opts.TrustedProxies)
	e.Logger.SetOutput(slogWriter{s.logger})
	e.Use(s.observe)
	var b [4]byte
	rand.Read(b[:])
	s.idPrefix = hex.EncodeToString(b[:]) + "-"
	return e
}

// ipExtractor believes X-Forwarded-For only from trusted proxies.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// levelFor logs failures louder than successes and client errors.
func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

// slogWriter sends echo's own log lines to the service's logger. Echo
// writes each as a JSON object (its logger's default header: time, level,
// prefix, file, line, then message); the line is logged at that level with
// echo's text under "detail", so that no key repeats slog's own.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	var line struct {
		Level   string `json:"level"`
		File    string `json:"file"`
		Line    string `json:"line"`
		Message string `json:"message"`
	}
	level, args := slog.LevelWarn, []any{"detail", strings.TrimSpace(string(p))}
	if err := json.Unmarshal(p, &line); err == nil && line.Level != "" {
		level, args = echoLevel(line.Level), []any{"detail", line.Message}
		if line.File != "" {
			args = append(args, "source", line.File+":"+line.Line)
		}
	}
	w.l.Log(context.Background(), level, "echo", args...)
	return len(p), nil
}

// echoLevel maps echo's (gommon's) level names to slog's; an unknown one is
// a warning.
func echoLevel(name string) slog.Level {
	switch strings.ToUpper(name) {
	case "DEBUG":
		return slog.LevelDebug
	case "INFO":
		return slog.LevelInfo
	case "ERROR", "FATAL", "PANIC":
		return slog.LevelError
	}
	return slog.LevelWarn
}

// handleHealthz is liveness: the process answers. It touches nothing.
func (s *Server) handleHealthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// handleReadyz is readiness: the store answers.
func (s *Server) handleReadyz(c echo.Context) error {
	if err := s.store.Ping(c.Request().Context()); err != nil {
		return err
	}
	return c.String(http.StatusOK, "ready\n")
}

// Package consentapi is crumb's HTTP service: the public consent API the
// banner calls from the site's pages (record a decision, read, export and
// erase a consent, count impressions), the admin API (consent statistics
// and the streaming proof-log export), health checks and metrics. It sees
// its storage only through store.Store; cmd/crumb picks the backend.
package consentapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/widget"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Default limits of the public API, per client IP.
const (
	DefaultRateLimit = 20 // requests per second
	DefaultRateBurst = 60
)

// Options configure a Server.
type Options struct {
	Sites *siteconfig.Config // required
	// AdminToken enables the admin API (Authorization: Bearer …); "" turns
	// it off.
	AdminToken string
	// MetricsToken guards /metrics; "" means AdminToken guards it. With
	// neither, /metrics is off.
	MetricsToken string
	// TrustedProxies are the networks whose X-Forwarded-For is believed
	// for the client IP; none means the peer address is the client.
	TrustedProxies []*net.IPNet
	// RateLimit is the sustained requests per second allowed per client IP
	// on the public API, RateBurst the burst; 0 takes the defaults, a
	// negative RateLimit turns limiting off.
	RateLimit float64
	RateBurst int
	// Registry receives the service's metrics and is served at /metrics;
	// nil makes a new one.
	Registry *prometheus.Registry
	Logger   *slog.Logger     // default slog.Default()
	Now      func() time.Time // default time.Now
	// Scans connect the admin API to the scan-job queue (scan.go).
	Scans ScanOptions
}

// Server is the consent service as an http.Handler.
type Server struct {
	e       *echo.Echo
	store   store.Store
	opts    Options
	logger  *slog.Logger
	now     func() time.Time
	sites   map[string]*site
	metrics *metrics
	// raises counts revisions raised because a banner widened what
	// visitors consented to (scope.go): site, cause.
	raises  *prometheus.CounterVec
	limiter *limiter
	widget  *widgetServer // crumb.js and the demo page (widget.go, demo.go)
	// versions are the widget bundles whose decisions are accepted
	// (widgetversion.go).
	versions *widgetVersions
	// idPrefix starts every request id of this process.
	idPrefix string
}

// NewServer checks the sites against the store (raising revisions that
// were raised at run time), stores each site's banner snapshot and returns
// the service ready to serve.
func NewServer(ctx context.Context, opts Options, st store.Store) (*Server, error) {
	if opts.Sites == nil || len(opts.Sites.Sites) == 0 {
		return nil, errors.New("new server: no sites configured")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = DefaultRateLimit
	}
	if opts.RateBurst <= 0 {
		opts.RateBurst = DefaultRateBurst
	}
	s := &Server{
		store:  st,
		opts:   opts,
		logger: opts.Logger,
		now:    opts.Now,
		sites:  map[string]*site{},
		raises: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crumb_banner_revision_raises_total",
			Help: "Site revisions raised because the banner built widened what visitors consented to (new category or provider), by site and cause (config: the site configuration at a start; overrides: the site owner's overrides; scan: a scan that found a new one).",
		}, []string{"site", "cause"}),
	}
	if err := opts.Registry.Register(s.raises); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	for i := range opts.Sites.Sites {
		cfg := &opts.Sites.Sites[i]
		si := newSite(cfg)
		s.raises.WithLabelValues(cfg.ID, "config")
		s.raises.WithLabelValues(cfg.ID, "overrides")
		s.raises.WithLabelValues(cfg.ID, "scan")
		if err := s.loadBanner(ctx, si, cfg.Revision, true); err != nil {
			return nil, fmt.Errorf("site %s: %w", cfg.ID, err)
		}
		s.sites[cfg.ID] = si
	}
	if opts.RateLimit > 0 {
		s.limiter = newLimiter(opts.RateLimit, opts.RateBurst, s.now)
	}
	w, err := newWidgetServer(s.sites)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	s.widget = w
	s.versions = &widgetVersions{current: w.bundle.Hash, known: map[string]time.Time{}}
	if err := s.noteWidgetVersion(ctx); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	m, err := newMetrics(opts.Registry, s)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	s.metrics = m
	s.e = s.newEcho()
	s.routes()
	if opts.AdminToken == "" {
		s.logger.Warn("admin API disabled: set CRUMB_ADMIN_TOKEN to enable /v1/admin")
	}
	if opts.AdminToken == "" && opts.MetricsToken == "" {
		s.logger.Warn("metrics disabled: set CRUMB_METRICS_TOKEN or CRUMB_ADMIN_TOKEN to enable /metrics")
	}
	return s, nil
}

// ServeHTTP implements http.Handler. crumb.js, requested on every page
// view of every site, is answered without the router (widget.go).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveWidget(w, r) {
		return
	}
	s.e.ServeHTTP(w, r)
}

// Banner returns the banner the site serves now, with Banner set to its
// hash, for the widget to inline into crumb.js.
func (s *Server) Banner(siteID string) (widget.Config, bool) {
	si, ok := s.sites[siteID]
	if !ok {
		return widget.Config{}, false
	}
	return si.state.Load().banner, true
}

// Run does the service's background work until ctx ends: it follows
// revisions raised by other replicas, keeps current banners and this
// process's widget version stored and forgets idle rate-limit buckets.
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.maintain(ctx)
		}
	}
}

func (s *Server) maintain(ctx context.Context) {
	if s.limiter != nil {
		s.limiter.sweep()
	}
	if err := s.noteWidgetVersion(ctx); err != nil {
		s.logger.Error("renew the widget version", "err", err)
	}
	for id, si := range s.sites {
		rev := si.state.Load().revision
		if stored, err := s.store.SiteRevision(ctx, id); err == nil && stored > rev {
			rev = stored
		}
		// Reloading also re-stores the current snapshot, so a banner
		// nobody answers for a whole retention period is not lost.
		if err := s.loadBanner(ctx, si, rev, false); err != nil {
			s.logger.Error("refresh banner", "site", id, "err", err)
		}
	}
}

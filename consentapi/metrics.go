package consentapi

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/prometheus/client_golang/prometheus"
)

// rateWindow is the window of the consent-rate gauges.
const rateWindow = 30 * 24 * time.Hour

// metrics are the service's Prometheus metrics. Labels are bounded: site
// and category ids come from the configuration, routes are templates.
type metrics struct {
	impressions *prometheus.CounterVec   // site
	decisions   *prometheus.CounterVec   // site, action
	choices     *prometheus.CounterVec   // site, category, granted
	duration    *prometheus.HistogramVec // route, method, status
	storeErrors *prometheus.CounterVec   // route
	rateLimited *prometheus.CounterVec   // route

	// The duration series of crumb.js's two answers, resolved once.
	widgetOK, widgetNotModified prometheus.Observer
	// Each site's decision and choice series, resolved once: recording a
	// decision hashes no labels.
	sites map[string]*siteCounters
}

// siteCounters are one site's decision and choice series.
type siteCounters struct {
	decisions map[store.Action]prometheus.Counter
	// choices per category, in the site's order: [0] denied, [1] granted.
	choices [][2]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, s *Server) (*metrics, error) {
	m := &metrics{
		impressions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crumb_consent_impressions_total", Help: "Banner impressions counted, by site.",
		}, []string{"site"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crumb_consent_decisions_total", Help: "Decisions recorded (replays excluded), by site and action.",
		}, []string{"site", "action"}),
		choices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crumb_consent_choices_total", Help: "Per-category choices in recorded decisions, by site, category and granted (true/false).",
		}, []string{"site", "category", "granted"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "crumb_http_request_duration_seconds", Help: "HTTP request duration by route template, method and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method", "status"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crumb_store_errors_total", Help: "Requests answered 503 because the store was unavailable, by route.",
		}, []string{"route"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crumb_http_rate_limited_total", Help: "Requests refused with 429 by the per-IP rate limit, by route.",
		}, []string{"route"}),
	}
	for _, c := range []prometheus.Collector{m.impressions, m.decisions, m.choices, m.duration, m.storeErrors, m.rateLimited, newRateCollector(s)} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Every series exists from the start, so rate() and ratios work from
	// the first scrape.
	for _, route := range []string{"/v1/sites/:site/consents", "/readyz"} {
		m.storeErrors.WithLabelValues(route)
	}
	for _, route := range rateLimitedRoutes {
		m.rateLimited.WithLabelValues(route)
	}
	m.widgetOK = m.duration.WithLabelValues(widgetRoute, http.MethodGet, "200")
	m.widgetNotModified = m.duration.WithLabelValues(widgetRoute, http.MethodGet, "304")
	m.sites = map[string]*siteCounters{}
	for id, si := range s.sites {
		m.impressions.WithLabelValues(id)
		sc := &siteCounters{decisions: map[store.Action]prometheus.Counter{}}
		for _, a := range store.Actions {
			sc.decisions[a] = m.decisions.WithLabelValues(id, string(a))
		}
		for _, c := range si.categories {
			sc.choices = append(sc.choices, [2]prometheus.Counter{
				m.choices.WithLabelValues(id, c, "false"),
				m.choices.WithLabelValues(id, c, "true"),
			})
		}
		m.sites[id] = sc
	}
	return m, nil
}

// rateLimitedRoutes are the route templates behind the per-IP rate limit
// (the visitors' routes guarded by public, preflights aside): their
// crumb_http_rate_limited_total series exist at 0 from the start, so the
// first 429 shows in increase().
var rateLimitedRoutes = []string{
	"/v1/sites/:site/consents",
	"/v1/sites/:site/consents/:id",
	"/v1/sites/:site/consents/:id/export",
	"/v1/sites/:site/impressions",
	"/v1/sites/:site/declaration",
}

// BuildInfoCollector returns the gauge crumb_build_info{version,
// goversion} = 1, which tells which build each replica and worker runs
// (join on instance to label other series with it).
func BuildInfoCollector(version string) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "crumb_build_info",
		Help: "Always 1; the labels name the crumb version and the Go version it was built with.",
	}, []string{"version", "goversion"})
	g.WithLabelValues(version, runtime.Version()).Set(1)
	return g
}

// decided counts a recorded decision.
func (m *metrics) decided(si *site, r store.Record) {
	sc := m.sites[si.cfg.ID]
	if d, ok := sc.decisions[r.Action]; ok {
		d.Inc()
	} else {
		m.decisions.WithLabelValues(si.cfg.ID, string(r.Action)).Inc()
	}
	for i, c := range si.categories {
		granted := 0
		if r.Categories[c] {
			granted = 1
		}
		sc.choices[i][granted].Inc()
	}
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	m.duration.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// observeWidget records the duration of a crumb.js answer (200 or 304).
func (m *metrics) observeWidget(status int, d time.Duration) {
	if status == http.StatusNotModified {
		m.widgetNotModified.Observe(d.Seconds())
		return
	}
	m.widgetOK.Observe(d.Seconds())
}

// rateCollector exports consent rates over the last rateWindow computed
// from the store's aggregates, not from this process's counters: they
// survive restarts and cover every replica (aggregate them with max, not
// sum). Results are cached for a minute; a scrape waits at most 2s.
type rateCollector struct {
	s           *Server
	accept      *prometheus.Desc
	interaction *prometheus.Desc
	optIn       *prometheus.Desc
	impressions *prometheus.Desc
	decisions   *prometheus.Desc

	mu      sync.Mutex
	at      time.Time
	metrics []prometheus.Metric
}

func newRateCollector(s *Server) *rateCollector {
	return &rateCollector{
		s:           s,
		accept:      prometheus.NewDesc("crumb_consent_accept_rate", "accept_all / all decisions over the last 30 days, from the store.", []string{"site"}, nil),
		interaction: prometheus.NewDesc("crumb_consent_interaction_rate", "Decisions / impressions over the last 30 days, from the store.", []string{"site"}, nil),
		optIn:       prometheus.NewDesc("crumb_consent_opt_in_rate", "Share of decisions granting the category over the last 30 days, from the store.", []string{"site", "category"}, nil),
		impressions: prometheus.NewDesc("crumb_consent_window_impressions", "Impressions over the last 30 days, from the store.", []string{"site"}, nil),
		decisions:   prometheus.NewDesc("crumb_consent_window_decisions", "Decisions over the last 30 days, from the store, by action.", []string{"site", "action"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (rc *rateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{rc.accept, rc.interaction, rc.optIn, rc.impressions, rc.decisions} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (rc *rateCollector) Collect(ch chan<- prometheus.Metric) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	now := rc.s.now()
	if rc.metrics == nil || now.Sub(rc.at) > time.Minute {
		rc.metrics, rc.at = rc.compute(now), now
	}
	for _, m := range rc.metrics {
		ch <- m
	}
}

func (rc *rateCollector) compute(now time.Time) []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out []prometheus.Metric
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	for id, si := range rc.s.sites {
		days, err := rc.s.store.Stats(ctx, id, now.Add(-rateWindow+24*time.Hour), now)
		if err != nil {
			rc.s.logger.Warn("consent-rate gauges", "site", id, "err", err)
			continue
		}
		sum := summarize(id, si.categories, days)
		gauge(rc.impressions, float64(sum.Impressions), id)
		for _, a := range store.Actions {
			gauge(rc.decisions, float64(sum.ByAction[a]), id, string(a))
		}
		if sum.AcceptRate != nil {
			gauge(rc.accept, *sum.AcceptRate, id)
		}
		if sum.InteractionRate != nil {
			gauge(rc.interaction, *sum.InteractionRate, id)
		}
		for _, c := range si.categories {
			if r := sum.Categories[c].OptInRate; r != nil {
				gauge(rc.optIn, *r, id, c)
			}
		}
	}
	return out
}

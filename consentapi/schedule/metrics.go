package schedule

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/scanner"
)

// Metrics counts what the scheduler and workers do. A nil *Metrics counts
// nothing.
type Metrics struct {
	jobs     *prometheus.CounterVec
	scans    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	pages    *prometheus.CounterVec
}

// NewMetrics registers the scan metrics on reg:
//
//	crumb_scan_jobs_queued_total{site, reason}   jobs this process put in the queue
//	crumb_scans_total{site, outcome}             scan attempts by outcome (ok, failed, dead, abandoned)
//	crumb_scan_duration_seconds{site}            time from taking a job to finishing it
//	crumb_scan_pages_total{site}                 pages visited by finished scans
//
// The counters of each of sites (the configured site ids) exist at 0 from
// the start, every reason and outcome: a series created by its first event
// starts at 1, and increase() would never see that first failed scan.
func NewMetrics(reg prometheus.Registerer, sites ...string) *Metrics {
	m := &Metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crumb_scan_jobs_queued_total",
			Help: "Scan jobs this process put in the queue, by site and reason (schedule, manual).",
		}, []string{"site", "reason"}),
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crumb_scans_total",
			Help: "Scan attempts by site and outcome (ok, failed, dead, abandoned).",
		}, []string{"site", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "crumb_scan_duration_seconds",
			Help:    "Time from a worker taking a scan job to finishing it.",
			Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600},
		}, []string{"site"}),
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crumb_scan_pages_total",
			Help: "Pages visited by finished scans, by site.",
		}, []string{"site"}),
	}
	reg.MustRegister(m.jobs, m.scans, m.duration, m.pages)
	for _, site := range sites {
		for _, reason := range []string{jobqueue.ReasonSchedule, jobqueue.ReasonManual} {
			m.jobs.WithLabelValues(site, reason)
		}
		for _, outcome := range Outcomes {
			m.scans.WithLabelValues(site, outcome)
		}
		m.pages.WithLabelValues(site)
	}
	return m
}

// Outcomes are the outcome label values of crumb_scans_total.
var Outcomes = []string{OutcomeOK, OutcomeFailed, OutcomeDead, OutcomeAbandoned}

// JobQueued counts a job put in the queue for site.
func (m *Metrics) JobQueued(site, reason string) { m.enqueued(site, reason) }

func (m *Metrics) enqueued(site, reason string) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(site, reason).Inc()
}

func (m *Metrics) scanned(site, outcome string, took time.Duration, r *scanner.Report) {
	if m == nil {
		return
	}
	m.scans.WithLabelValues(site, outcome).Inc()
	m.duration.WithLabelValues(site).Observe(took.Seconds())
	if r != nil {
		m.pages.WithLabelValues(site).Add(float64(len(r.Pages)))
	}
}

// queueCollector reads the queue's Stats on each scrape, so every replica
// reports the shared queue as it is now.
type queueCollector struct {
	q                             jobqueue.Queue
	timeout                       time.Duration
	depth, inFlight, oldest, dead *prometheus.Desc
}

// NewQueueCollector returns a collector of the queue's state:
//
//	crumb_scan_queue_depth                    jobs not yet finished
//	crumb_scan_queue_in_flight                jobs a worker holds
//	crumb_scan_queue_oldest_job_age_seconds   age of the oldest unfinished job
//	crumb_scan_queue_dead_jobs                jobs in the dead-letter list
//
// A scrape that cannot read the queue within timeout reports nothing, so
// alert rules see the series go absent rather than drop to zero.
func NewQueueCollector(q jobqueue.Queue, timeout time.Duration) prometheus.Collector {
	return &queueCollector{
		q: q, timeout: timeout,
		depth:    prometheus.NewDesc("crumb_scan_queue_depth", "Scan jobs not yet finished (waiting or in flight).", nil, nil),
		inFlight: prometheus.NewDesc("crumb_scan_queue_in_flight", "Scan jobs a worker holds.", nil, nil),
		oldest:   prometheus.NewDesc("crumb_scan_queue_oldest_job_age_seconds", "Age of the oldest unfinished scan job.", nil, nil),
		dead:     prometheus.NewDesc("crumb_scan_queue_dead_jobs", "Scan jobs that ran out of attempts.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.inFlight
	ch <- c.oldest
	ch <- c.dead
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	s, err := c.q.Stats(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Depth))
	ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(s.InFlight))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, s.OldestAge.Seconds())
	ch <- prometheus.MustNewConstMetric(c.dead, prometheus.GaugeValue, float64(s.Dead))
}

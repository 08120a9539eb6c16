package schedule

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crumbhq/crumb/scanner"
)

// LatestScan is a site's most recent finished scan, as the report metrics
// read it from the store. A configured, scheduled site that has no scan
// yet is listed with a nil Report and a zero FinishedAt: its
// crumb_scan_last_finished_timestamp_seconds is 0, so an alert can tell a
// site never scanned from one that is not configured.
type LatestScan struct {
	Site       string
	FinishedAt time.Time
	Report     *scanner.Report
	// Interval is the longest time between two scheduled scans of the
	// site (Schedule.LongestGap); 0 when it is not scheduled.
	Interval time.Duration
}

// reportCollector exports what each site's latest scan found. It reads the
// store on every scrape, so the figures are the same on every replica and
// survive restarts, whichever worker ran the scan.
type reportCollector struct {
	latest                                 func(ctx context.Context) ([]LatestScan, error)
	timeout                                time.Duration
	items, unclassified, preConsent, pages *prometheus.Desc
	preConsentHosts, finished, interval    *prometheus.Desc
}

// NewReportCollector returns a collector of the latest scan of each site:
//
//	crumb_scan_items{site, category}                   items found, by category
//	crumb_scan_unclassified_items{site}                items no rule classified (R31)
//	crumb_scan_preconsent_findings{site}               non-necessary items present before consent (R31)
//	crumb_scan_preconsent_tracker_hosts{site}          known trackers' hosts contacted before consent (R31)
//	crumb_scan_last_pages{site}                        pages the scan visited
//	crumb_scan_last_finished_timestamp_seconds{site}   when it finished; 0 for a site never scanned
//	crumb_scan_interval_seconds{site}                  the longest gap between its scheduled scans
//
// latest is called on each scrape with a context bounded by timeout; on
// error the collector reports nothing. A site listed without a report gets
// only its timestamp (0 unless FinishedAt is set).
func NewReportCollector(latest func(ctx context.Context) ([]LatestScan, error), timeout time.Duration) prometheus.Collector {
	site := []string{"site"}
	return &reportCollector{
		latest: latest, timeout: timeout,
		items:        prometheus.NewDesc("crumb_scan_items", "Items the latest scan found, by site and category.", []string{"site", "category"}, nil),
		unclassified: prometheus.NewDesc("crumb_scan_unclassified_items", "Items of the latest scan that no rule classified.", site, nil),
		preConsent:   prometheus.NewDesc("crumb_scan_preconsent_findings", "Non-necessary items the latest scan saw before consent.", site, nil),
		preConsentHosts: prometheus.NewDesc("crumb_scan_preconsent_tracker_hosts",
			"Hosts of known trackers the latest scan saw contacted before consent, whether or not they stored anything.", site, nil),
		pages:    prometheus.NewDesc("crumb_scan_last_pages", "Pages the latest scan visited.", site, nil),
		finished: prometheus.NewDesc("crumb_scan_last_finished_timestamp_seconds", "When the latest scan finished; 0 for a scheduled site not scanned yet.", site, nil),
		interval: prometheus.NewDesc("crumb_scan_interval_seconds", "The longest time between two scheduled scans of the site.", site, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *reportCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.items, c.unclassified, c.preConsent, c.preConsentHosts, c.pages, c.finished, c.interval} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *reportCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	scans, err := c.latest(ctx)
	if err != nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, s := range scans {
		if s.Interval > 0 {
			gauge(c.interval, s.Interval.Seconds(), s.Site)
		}
		if s.Report == nil {
			var at float64
			if !s.FinishedAt.IsZero() {
				at = float64(s.FinishedAt.Unix())
			}
			gauge(c.finished, at, s.Site)
			continue
		}
		f := Summarize(s.Report)
		for cat, n := range f.Categories {
			gauge(c.items, float64(n), s.Site, string(cat))
		}
		gauge(c.unclassified, float64(f.Unclassified), s.Site)
		gauge(c.preConsent, float64(f.PreConsent), s.Site)
		gauge(c.preConsentHosts, float64(f.PreConsentHosts), s.Site)
		gauge(c.pages, float64(len(s.Report.Pages)), s.Site)
		gauge(c.finished, float64(s.FinishedAt.Unix()), s.Site)
	}
}

// Findings counts a report's items by category and what the site owner
// must act on (R31).
type Findings struct {
	Categories   map[scanner.Category]int `json:"categories"`
	Unclassified int                      `json:"unclassified"`
	PreConsent   int                      `json:"pre_consent"`
	// PreConsentHosts counts the third-party hosts of known trackers
	// contacted before consent (pixels, scripts, fonts from an ad network),
	// whether or not they stored anything.
	PreConsentHosts int `json:"pre_consent_hosts"`
}

// Summarize counts r's items and tracker hosts. An item without a
// classification counts as unclassified (an item whose classification only
// proposes necessary is unclassified too, R32); a pre-consent finding is a
// non-necessary item seen before consent; a host counts when the
// classifier marked it a tracker's and it was contacted before consent.
func Summarize(r *scanner.Report) Findings {
	f := Findings{Categories: map[scanner.Category]int{}}
	for _, it := range r.Items {
		cat := scanner.Unclassified
		if it.Classification != nil && it.Classification.Category != "" {
			cat = it.Classification.Category
		}
		f.Categories[cat]++
		if cat == scanner.Unclassified {
			f.Unclassified++
		}
		if cat != scanner.Necessary && it.PreConsent() {
			f.PreConsent++
		}
	}
	for _, h := range r.ThirdPartyHosts {
		if h.Tracker != nil && h.PreConsent() {
			f.PreConsentHosts++
		}
	}
	return f
}

package schedule_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/schedule"
	"github.com/crumbhq/crumb/consentapi/webhook"
	"github.com/crumbhq/crumb/scanner"
)

func item(name string, cat scanner.Category, modes ...string) scanner.Item {
	it := scanner.Item{Kind: scanner.Cookie, Name: name, Domain: "shop.test", SeenIn: modes}
	if cat != "" {
		it.Classification = &scanner.Classification{Category: cat}
	}
	return it
}

func TestReportCollector(t *testing.T) {
	finished := time.Unix(1795000000, 0)
	r := report(4)
	r.Items = []scanner.Item{
		item("PHPSESSID", scanner.Necessary, "none", "accept-all"),
		item("_ga", scanner.Analytics, "accept-all"),
		item("_fbp", scanner.Marketing, "none", "accept-all"),
		item("zq", scanner.Unclassified, "none"),
		item("raw", "", "accept-all"),
		// Unclassified with necessary only proposed (R32): a finding.
		{Kind: scanner.Cookie, Name: "app_csrf", Domain: "shop.test", SeenIn: []string{"none"},
			Classification: &scanner.Classification{Category: scanner.Unclassified, Proposed: scanner.Necessary}},
	}
	li := &scanner.Tracker{Domain: "linkedin.com", Provider: "LinkedIn", Category: scanner.Marketing}
	r.ThirdPartyHosts = []scanner.Host{
		{Host: "px.ads.linkedin.com", SeenIn: []string{"none", "accept-all"}, Tracker: li}, // a pixel before consent
		{Host: "snap.licdn.com", SeenIn: []string{"accept-all"}, Tracker: li},              // after consent only
		{Host: "fonts.example.net", SeenIn: []string{"none"}},                              // no tracker
	}
	fail := false
	reg := prometheus.NewRegistry()
	reg.MustRegister(schedule.NewReportCollector(func(context.Context) ([]schedule.LatestScan, error) {
		if fail {
			return nil, errors.New("store down")
		}
		return []schedule.LatestScan{{Site: "shop", FinishedAt: finished, Report: r, Interval: 7 * 24 * time.Hour}, {Site: "new", Interval: 24 * time.Hour}, {Site: "off", FinishedAt: finished, Report: r}}, nil
	}, time.Second))
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"crumb_scan_items", map[string]string{"site": "shop", "category": "necessary"}, 1},
		{"crumb_scan_items", map[string]string{"site": "shop", "category": "marketing"}, 1},
		{"crumb_scan_items", map[string]string{"site": "shop", "category": "unclassified"}, 3},
		{"crumb_scan_unclassified_items", map[string]string{"site": "shop"}, 3},
		{"crumb_scan_preconsent_findings", map[string]string{"site": "shop"}, 3},
		{"crumb_scan_preconsent_tracker_hosts", map[string]string{"site": "shop"}, 1},
		{"crumb_scan_last_pages", map[string]string{"site": "shop"}, 4},
		{"crumb_scan_last_finished_timestamp_seconds", map[string]string{"site": "shop"}, 1795000000},
		// A site never scanned: the timestamp at 0, so CrumbScanNeverSucceeded
		// can see it.
		{"crumb_scan_last_finished_timestamp_seconds", map[string]string{"site": "new"}, 0},
		// The longest gap of each scheduled site's schedule, for CrumbScanOverdue.
		{"crumb_scan_interval_seconds", map[string]string{"site": "shop"}, 7 * 86400},
		{"crumb_scan_interval_seconds", map[string]string{"site": "new"}, 86400},
	} {
		if got := counter(t, reg, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if _, ok := series(t, reg, "crumb_scan_interval_seconds", map[string]string{"site": "off"}, true); ok {
		t.Error("a site not scheduled exports an interval")
	}
	// The site never scanned has its timestamp and interval and nothing else.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "site" && l.GetValue() == "new" && mf.GetName() != "crumb_scan_last_finished_timestamp_seconds" && mf.GetName() != "crumb_scan_interval_seconds" {
					t.Errorf("site never scanned: %s%v", mf.GetName(), m.GetLabel())
				}
			}
		}
	}
	fail = true
	if mfs, err := reg.Gather(); err != nil || len(mfs) != 0 {
		t.Errorf("with the store down: %d families, %v; want none, so alerts see absence, not zero", len(mfs), err)
	}
}

// TestMetricsSeriesAtZero: NewMetrics creates each configured site's
// counters at 0, every outcome and reason, so increase() sees the first
// failed scan.
func TestMetricsSeriesAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	schedule.NewMetrics(reg, "shop", "blog")
	n := 0
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		n += len(mf.GetMetric())
	}
	// Per site: 4 outcomes, 2 reasons, 1 pages counter.
	if want := 2 * (4 + 2 + 1); n != want {
		t.Errorf("%d series, want %d", n, want)
	}
	for _, site := range []string{"shop", "blog"} {
		for _, outcome := range []string{"ok", "failed", "dead", "abandoned"} {
			if !has(t, reg, "crumb_scans_total", map[string]string{"site": site, "outcome": outcome}) {
				t.Errorf("no crumb_scans_total{site=%q,outcome=%q}", site, outcome)
			}
		}
		for _, reason := range []string{"schedule", "manual"} {
			if !has(t, reg, "crumb_scan_jobs_queued_total", map[string]string{"site": site, "reason": reason}) {
				t.Errorf("no crumb_scan_jobs_queued_total{site=%q,reason=%q}", site, reason)
			}
		}
		if !has(t, reg, "crumb_scan_pages_total", map[string]string{"site": site}) {
			t.Errorf("no crumb_scan_pages_total{site=%q}", site)
		}
	}
}

// has reports whether reg holds a series of name with exactly labels, at 0.
func has(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) bool {
	t.Helper()
	v, ok := series(t, reg, name, labels, true)
	if ok && v != 0 {
		t.Errorf("%s%v = %v, want 0", name, labels, v)
	}
	return ok
}

// TestAlertRules: every crumb_ metric the alert rules in configs/ use is
// one that crumb exports, so a renamed metric cannot silently disarm an
// alert.
func TestAlertRules(t *testing.T) {
	b, err := os.ReadFile("../../configs/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("configs/alerts.yml: %v", err)
	}
	rec := &recorder{}
	schedule.NewMetrics(rec)
	webhook.NewSender(rec, nil)
	rec.MustRegister(schedule.NewQueueCollector(nil, time.Second), schedule.NewReportCollector(nil, time.Second), redisstore.DurabilityCollector(nil))
	known := map[string]bool{}
	fqName := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	ch := make(chan *prometheus.Desc, 100)
	for _, c := range rec.cs {
		c.Describe(ch)
	}
	close(ch)
	for d := range ch {
		known[fqName.FindStringSubmatch(d.String())[1]] = true
	}
	// Histograms export these series under their name.
	for n := range known {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			known[n+suffix] = true
		}
	}
	// The consent API's metrics the alerts use; consentapi's
	// TestAlertedSeriesAtStart checks they exist from the start.
	for _, n := range []string{"crumb_store_errors_total", "crumb_http_request_duration_seconds_count", "crumb_http_rate_limited_total"} {
		known[n] = true
	}
	// Recording rules (recording.yml) may be used by name.
	b, err = os.ReadFile("../../configs/recording.yml")
	if err != nil {
		t.Fatal(err)
	}
	var recording struct {
		Groups []struct {
			Rules []struct {
				Record string `yaml:"record"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &recording); err != nil {
		t.Fatalf("configs/recording.yml: %v", err)
	}
	for _, g := range recording.Groups {
		for _, r := range g.Rules {
			known[r.Record] = true
		}
	}
	// Scrape jobs (prometheus.yml) may be used in up{job="..."}.
	b, err = os.ReadFile("../../configs/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var scrape struct {
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &scrape); err != nil {
		t.Fatalf("configs/prometheus.yml: %v", err)
	}
	jobs := map[string]bool{}
	for _, c := range scrape.ScrapeConfigs {
		jobs[c.JobName] = true
	}
	used := regexp.MustCompile(`[a-z0-9_:]*crumb_[a-z0-9_:]+`)
	upJob := regexp.MustCompile(`\bup\{job="([^"]+)"\}`)
	alerts := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts++
			names := used.FindAllString(r.Expr, -1)
			ups := upJob.FindAllStringSubmatch(r.Expr, -1)
			if len(names) == 0 && len(ups) == 0 {
				t.Errorf("alert %s uses no crumb metric nor crumb's up: %s", r.Alert, r.Expr)
			}
			for _, n := range names {
				if !known[n] {
					t.Errorf("alert %s uses %s, which crumb does not export nor recording.yml record", r.Alert, n)
				}
			}
			for _, m := range ups {
				if !jobs[m[1]] {
					t.Errorf("alert %s uses up of job %s, which prometheus.yml does not scrape", r.Alert, m[1])
				}
			}
		}
	}
	if alerts < 5 {
		t.Errorf("configs/alerts.yml has %d alerts, want the scan alerts", alerts)
	}
	// R31: each kind of pre-consent finding has its alert.
	for _, metric := range []string{"crumb_scan_preconsent_findings", "crumb_scan_preconsent_tracker_hosts", "crumb_scan_unclassified_items"} {
		covered := false
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				covered = covered || regexp.MustCompile(`\b`+metric+`\b`).MatchString(r.Expr)
			}
		}
		if !covered {
			t.Errorf("no alert on %s", metric)
		}
	}
}

// recorder is a prometheus.Registerer that keeps what is registered.
type recorder struct{ cs []prometheus.Collector }

func (r *recorder) Register(c prometheus.Collector) error   { r.cs = append(r.cs, c); return nil }
func (r *recorder) MustRegister(cs ...prometheus.Collector) { r.cs = append(r.cs, cs...) }
func (r *recorder) Unregister(prometheus.Collector) bool    { return false }

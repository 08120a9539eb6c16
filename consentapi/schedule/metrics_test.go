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
		return []schedule.LatestScan{{Site: "shop", FinishedAt: finished, Report: r}, {Site: "new"}}, nil
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
	} {
		if got := counter(t, reg, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	fail = true
	if mfs, err := reg.Gather(); err != nil || len(mfs) != 0 {
		t.Errorf("with the store down: %d families, %v; want none, so alerts see absence, not zero", len(mfs), err)
	}
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
	used := regexp.MustCompile(`crumb_[a-z_]+`)
	alerts := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts++
			names := used.FindAllString(r.Expr, -1)
			if len(names) == 0 {
				t.Errorf("alert %s uses no crumb metric: %s", r.Alert, r.Expr)
			}
			for _, n := range names {
				if !known[n] {
					t.Errorf("alert %s uses %s, which crumb does not export", r.Alert, n)
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

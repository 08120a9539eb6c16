package siteconfig_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/siteconfig"
)

const scanSite = `sites:
  - id: shop
    name: Shop AB
    origins: [https://shop.example]
    privacy_policy_url: https://shop.example/privacy
`

func TestScanDefaults(t *testing.T) {
	cfg, err := siteconfig.Parse("shop.yaml", []byte(scanSite))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Sites[0]
	st := s.ScanSettings()
	if len(st.StartURLs) != 1 || st.StartURLs[0] != "https://shop.example/" || st.MaxPages != 50 || strings.Join(st.Modes, ",") != "none,accept-all,grant:analytics,grant:marketing" {
		t.Errorf("default scan settings = %+v", st)
	}
	if got := s.ScanSchedule().String(); got != "weekly" {
		t.Errorf("default schedule = %s, want weekly", got)
	}
	r := s.ScanResults([]byte("k"))
	if !r.RaiseRevision || r.Revision != 1 || r.WebhookURL != "" {
		t.Errorf("default results settings = %+v", r)
	}
}

func TestScanSettings(t *testing.T) {
	cfg, err := siteconfig.Parse("shop.yaml", []byte(scanSite+`    scan:
      schedule: "0 3 * * 1"
      start_urls: [https://shop.example/sv/, https://shop.example/en/]
      max_pages: 200
      modes: [none]
      keep: 30
      raise_revision: false
      webhook: {url: https://hooks.shop.example/crumb, secret_env: SHOP_WEBHOOK_SECRET}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Sites[0]
	if got := s.ScanSchedule().Next("shop", time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)) {
		t.Errorf("next scheduled scan = %s", got)
	}
	st := s.ScanSettings()
	if len(st.StartURLs) != 2 || st.MaxPages != 200 || len(st.Modes) != 1 {
		t.Errorf("scan settings = %+v", st)
	}
	if r := s.ScanResults(nil); r.RaiseRevision || r.Keep != 30 || r.WebhookURL != "https://hooks.shop.example/crumb" {
		t.Errorf("results settings = %+v", r)
	}
	if s.Scan.Webhook.SecretEnv != "SHOP_WEBHOOK_SECRET" {
		t.Errorf("secret env = %q", s.Scan.Webhook.SecretEnv)
	}
}

func TestScanInvalid(t *testing.T) {
	_, err := siteconfig.Parse("shop.yaml", []byte(scanSite+`    scan:
      schedule: "0 3 * *"
      start_urls: [ftp://shop.example/, /relative]
      max_pages: -1
      modes: [reject-all]
      keep: -2
      webhook: {url: http://hooks.shop.example/, secret_env: "my secret"}
`))
	var e *siteconfig.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *siteconfig.Error", err)
	}
	fields := map[string]int{}
	for _, p := range e.Problems {
		fields[p.Field]++
		if p.File != "shop.yaml" || p.Site != "shop" {
			t.Errorf("problem without file and site: %+v", p)
		}
	}
	for f, n := range map[string]int{"scan.schedule": 1, "scan.start_urls": 2, "scan.max_pages": 1, "scan.modes": 1, "scan.keep": 1, "scan.webhook.url": 1, "scan.webhook.secret_env": 1} {
		if fields[f] != n {
			t.Errorf("%d problems for %s, want %d; all: %v", fields[f], f, n, e.Problems)
		}
	}
}

// TestScanGrantModes: a grant: mode must name a category of the site that
// a visitor can grant (R30); CheckScan, which guards settings stored
// through the admin API, says the same.
func TestScanGrantModes(t *testing.T) {
	const ownCategory = `    gpc: [analytics]
    categories:
      - id: necessary
      - id: analytics
      - id: support_chat
        name: {sv: Chatt, en: Chat}
        description: {sv: Kundtjänstens chatt., en: The support chat.}
`
	for _, tc := range []struct {
		name, categories string
		modes            []string
		problem          string // "" for valid
	}{
		{"built-in categories", "", []string{"none", "grant:analytics", "grant:marketing", "accept-all"}, ""},
		{"a site's own category", ownCategory, []string{"none", "grant:support_chat"}, ""},
		{"not a category of the site", ownCategory, []string{"none", "grant:marketing"}, `"grant:marketing": the site has no category "marketing" (its categories: necessary, analytics, support_chat)`},
		{"necessary", "", []string{"grant:necessary"}, "not necessary"},
		{"not an id", "", []string{"grant:Analytics"}, "is not a category id"},
		{"unknown mode", "", []string{"reject-all"}, `unknown consent mode "reject-all" (want none, accept-all or grant:<category>)`},
		{"twice", "", []string{"none", "grant:analytics", "grant:analytics"}, `"grant:analytics" is listed twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := scanSite + tc.categories + "    scan:\n      modes: [" + strings.Join(tc.modes, ", ") + "]\n"
			cfg, err := siteconfig.Parse("shop.yaml", []byte(yaml))
			if tc.problem == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := cfg.Sites[0].ScanSettings().Modes; strings.Join(got, ",") != strings.Join(tc.modes, ",") {
					t.Errorf("modes %v, want %v", got, tc.modes)
				}
				if err := cfg.Sites[0].ScanSettings().Validate(); err != nil {
					t.Errorf("the worker refuses the settings: %v", err)
				}
				return
			}
			var e *siteconfig.Error
			if !errors.As(err, &e) || len(e.Problems) != 1 || e.Problems[0].Field != "scan.modes" || !strings.Contains(e.Problems[0].Message, tc.problem) {
				t.Fatalf("err = %v, want one scan.modes problem saying %q", err, tc.problem)
			}
		})
	}
}

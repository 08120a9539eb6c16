package siteconfig_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/siteconfig"
)

func TestLoadExample(t *testing.T) {
	cfg, err := siteconfig.Load("../../configs/crumb.yaml")
	if err != nil {
		t.Fatalf("the example configuration must be valid: %v", err)
	}
	s, ok := cfg.Site("exempel")
	if !ok {
		t.Fatal("site exempel missing")
	}
	if got, want := strings.Join(s.CategoryIDs(), ","), "necessary,analytics,marketing"; got != want {
		t.Errorf("categories=%s, want %s", got, want)
	}
	b := s.Banner()
	if got, want := b.Texts["sv"]["title"], "Exempel AB använder kakor"; got != want {
		t.Errorf("sv title=%q, want %q", got, want)
	}
	if got, want := b.Texts["en"]["accept_all"], "Accept all"; got != want {
		t.Errorf("en accept_all=%q, want built-in %q", got, want)
	}
	if !b.Categories[0].Locked || b.Categories[1].Locked {
		t.Errorf("only necessary is locked: %+v", b.Categories)
	}
	if got, want := b.Categories[1].Name["sv"], "Statistik"; got != want {
		t.Errorf("analytics sv name=%q, want %q", got, want)
	}
	var ga4 bool
	for _, c := range b.Categories[1].Cookies {
		ga4 = ga4 || c.Name == "_ga_*" && c.Pattern && c.Kind == "cookie"
	}
	if !ga4 {
		t.Errorf("_ga_* is not a pattern cookie: %+v", b.Categories[1].Cookies)
	}
	if got, want := b.Validity, int64(6*siteconfig.Month/time.Second); got != want {
		t.Errorf("validity=%d, want %d", got, want)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := siteconfig.Load("testdata/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Sites[0]
	if got, want := strings.Join(s.Languages, ","), "sv,en"; got != want {
		t.Errorf("languages=%s, want %s", got, want)
	}
	if got, want := strings.Join(s.CategoryIDs(), ","), "necessary,analytics,marketing"; got != want {
		t.Errorf("categories=%s, want %s", got, want)
	}
	if s.Revision != 1 || s.Validity != siteconfig.DefaultValidity || s.Retention != siteconfig.DefaultRetention {
		t.Errorf("revision=%d validity=%v retention=%v", s.Revision, s.Validity.Std(), s.Retention.Std())
	}
	if got, want := strings.Join(s.GPC, ","), "marketing"; got != want {
		t.Errorf("gpc=%s, want %s", got, want)
	}
	// crumb's own storage is declared in necessary, with purpose and
	// lifetime in every language (R4).
	own := s.Categories[0].Cookies
	if len(own) != 2 || own[0].Name != "crumb_consent" || own[0].Kind != "cookie" || own[1].Name != "crumb_pending" || own[1].Kind != "localStorage" {
		t.Fatalf("necessary lists %+v, want crumb_consent and crumb_pending", own)
	}
	if own[0].Expiry["sv"] != "6 månader" || own[0].Expiry["en"] != "6 months" || own[0].Purpose["sv"] == "" || own[1].Purpose["en"] == "" || own[0].Provider != "Shop AB" {
		t.Errorf("crumb_consent row %+v", own[0])
	}
}

// TestOwnStorageKeepsSiteWording: a site that lists crumb_consent itself
// keeps its row (once); crumb_pending is still added.
func TestOwnStorageKeepsSiteWording(t *testing.T) {
	cfg, err := siteconfig.Load("../../configs/crumb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cfg.Sites[0].Categories[0].Cookies {
		names = append(names, c.Name)
		if c.Name == "crumb_consent" && c.Provider != "Exempel AB" {
			t.Errorf("crumb_consent's row is not the site's own: %+v", c)
		}
	}
	if got, want := strings.Join(names, ","), "crumb_pending,crumb_consent,PHPSESSID"; got != want {
		t.Errorf("necessary lists %s, want %s", got, want)
	}
}

// TestInvalid loads each testdata/invalid-*.yaml and compares every
// reported problem with the .err file beside it.
func TestInvalid(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid-*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/invalid-*.yaml")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			_, err = siteconfig.Load(f)
			if !errors.Is(err, siteconfig.ErrInvalid) {
				t.Fatalf("err=%v, want ErrInvalid", err)
			}
			if got, want := err.Error(), strings.TrimSpace(string(want)); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"180d", 180 * siteconfig.Day, true},
		{"6mo", 6 * siteconfig.Month, true},
		{"12mo", siteconfig.Year, true},
		{"1y", siteconfig.Year, true},
		{"720h", 720 * time.Hour, true},
		{"0d", 0, false},
		{"-1y", 0, false},
		{"6 months", 0, false},
		{"mo", 0, false},
		{"0s", 0, false},
		{"99999999999y", 0, false},
	}
	for _, tt := range tests {
		got, err := siteconfig.ParseDuration(tt.in)
		if (err == nil) != tt.ok || got.Std() != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tt.in, got.Std(), err, tt.want, tt.ok)
		}
	}
}

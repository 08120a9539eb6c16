package siteconfig_test

import (
	"testing"

	"github.com/crumbhq/crumb/consentapi/siteconfig"
)

// TestCountImpressions checks count_impressions: not counted unless a site
// turns it on (R1), and passed to the widget as no_impressions.
func TestCountImpressions(t *testing.T) {
	const site = `sites:
  - id: shop
    name: Shop AB
    origins: [https://shop.example]
    privacy_policy_url: /privacy
`
	tests := []struct {
		name  string
		line  string
		count bool
	}{
		{"default", "", false},
		{"on", "    count_impressions: true\n", true},
		{"off", "    count_impressions: false\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := siteconfig.Parse("shop.yaml", []byte(site+tt.line))
			if err != nil {
				t.Fatal(err)
			}
			s := cfg.Sites[0]
			if s.CountImpressions == nil || *s.CountImpressions != tt.count {
				t.Errorf("CountImpressions = %v, want %v", s.CountImpressions, tt.count)
			}
			if got := s.Banner().NoImpressions; got != !tt.count {
				t.Errorf("Banner().NoImpressions = %v, want %v", got, !tt.count)
			}
		})
	}
	if _, err := siteconfig.Parse("shop.yaml", []byte(site+"    count_impressions: sometimes\n")); err == nil {
		t.Error("count_impressions: sometimes was accepted")
	}
}

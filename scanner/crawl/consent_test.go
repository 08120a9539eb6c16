package crawl

import (
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/widget"
)

func TestFindCrumbConfig(t *testing.T) {
	b, err := widget.Build()
	if err != nil {
		t.Fatal(err)
	}
	texts, _ := widget.DefaultTexts("sv")
	js, err := b.Script(widget.Config{
		Site: "bokhandeln", Name: "Bokhandeln AB", Revision: 3, Validity: 15552000, Languages: []string{"sv"},
		Texts: map[string]map[string]string{"sv": texts}, Theme: widget.DefaultTheme, IconPosition: "bottom-left",
		Categories: []widget.Category{{ID: "necessary", Locked: true}, {ID: "analytics"}, {ID: "marketing"}, {ID: "personalisation"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, js string
		ok       bool
		granted  string
	}{
		{"crumb.js as served", string(js), true, "analytics+marketing+personalisation"},
		{"plain JSON", `window.x = {"site":"bokhandeln","revision":3,"categories":[{"id":"necessary","locked":true}]};`, true, "analytics+marketing"},
		{"no config", `console.log("{\"sitemap\": 1}")`, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, ok := findCrumbConfig(tc.js)
			if ok != tc.ok {
				t.Fatalf("found=%v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if cfg.Site != "bokhandeln" || cfg.Revision != 3 || cfg.granted() != tc.granted {
				t.Fatalf("config %+v granting %q", cfg, cfg.granted())
			}
			v := cfg.cookieValue("AbC_d-9", cfg.granted(), time.Unix(1795000000, 0))
			if want := "1.AbC_d-9.3." + tc.granted + ".1795000000"; v != want {
				t.Errorf("cookie %q, want %q", v, want)
			}
		})
	}
	// Granting one category alone: only a category a visitor can choose.
	cfg, _ := findCrumbConfig(string(js))
	for id, want := range map[scanner.Category]bool{"analytics": true, "personalisation": true, "necessary": false, "social": false} {
		if got := cfg.grants(id); got != want {
			t.Errorf("grants(%q) = %v, want %v", id, got, want)
		}
	}
	if v, want := cfg.cookieValue("x", "analytics", time.Unix(1795000000, 0)), "1.x.3.analytics.1795000000"; v != want {
		t.Errorf("cookie %q, want %q", v, want)
	}
	if !strings.Contains(string(js), `{\"site\":\"bokhandeln\"`) {
		t.Errorf("the widget no longer inlines its config as an escaped JSON string; update findCrumbConfig")
	}
}

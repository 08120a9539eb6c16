package siteconfig_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/crumbhq/crumb/consentapi/siteconfig"
)

// TestCookieRows: a cookie row's expiry, like its purpose, is in every
// site language once given in one; a cookie is listed under one category;
// a known tracker under necessary needs the WP194 exemption it relies on,
// as an override saying necessary does (R32). Each problem names the
// file, the site and the field.
func TestCookieRows(t *testing.T) {
	const head = `sites:
  - id: shop
    name: Shop AB
    origins: [https://shop.example]
    privacy_policy_url: /privacy
    gpc: []
    categories:
`
	row := func(name, extra string) string {
		return "          - name: " + name + "\n            purpose: {sv: Syfte, en: Purpose}\n" + extra
	}
	tests := []struct {
		name, categories string
		want             string // "" for valid
	}{
		{"expiry in every language", "      - id: analytics\n        cookies:\n" + row("_ga", "            expiry: {sv: 2 år, en: 2 years}\n"), ""},
		{"no expiry", "      - id: analytics\n        cookies:\n" + row("_ga", ""), ""},
		{"expiry only in sv", "      - id: analytics\n        cookies:\n" + row("_ga", "            expiry: {sv: 2 år}\n"),
			`shop.yaml: site "shop": categories[0].cookies[0].expiry.en: missing: the cookie table states a lifetime given in one language in every site language`},
		{"same name under two categories", "      - id: analytics\n        cookies:\n" + row("_ga", "") + "      - id: marketing\n        cookies:\n" + row("_fbp", "") + row("_ga", ""),
			`shop.yaml: site "shop": categories[1].cookies[1].name: "_ga" is listed under both analytics (categories[0].cookies[0]) and marketing: a cookie belongs to one category; keep the one it is used for`},
		{"same name twice in one category", "      - id: analytics\n        cookies:\n" + row("_ga", "") + row("_ga", ""),
			`shop.yaml: site "shop": categories[0].cookies[1].name: "_ga" is listed twice in category analytics (also categories[0].cookies[0])`},
		{"same name, other kind", "      - id: analytics\n        cookies:\n" + row("seen", "") + row("seen", "            kind: localStorage\n"), ""},
		{"tracker under necessary", "      - id: necessary\n        cookies:\n" + row("_ga", "") + "      - id: analytics\n",
			`shop.yaml: site "shop": categories[0].cookies[0].justification: missing: crumb's knowledge base knows _ga as analytics (Google Analytics), not necessary (google.kb:8 _ga); move the row to analytics, or give the WP194 exemption the necessary verdict relies on (R32), as an override must`},
		{"tracker pattern under necessary", "      - id: necessary\n        cookies:\n" + row("_hjSession_*", "") + "      - id: analytics\n",
			`categories[0].cookies[0].justification: missing: crumb's knowledge base knows _hjSession_* as analytics (Hotjar)`},
		{"tracker under necessary, justified", "      - id: necessary\n        cookies:\n" + row("_ga", "            justification: B-security, our own fraud check reads it\n"), ""},
		{"necessary cookie under necessary", "      - id: necessary\n        cookies:\n" + row("sessionid", "") + row("crumb_consent", ""), ""},
		{"unknown name under necessary", "      - id: necessary\n        cookies:\n" + row("nk_cart", ""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := siteconfig.Parse("shop.yaml", []byte(head+tt.categories))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && !errors.Is(err, siteconfig.ErrInvalid):
				t.Errorf("err = %v, want %s", err, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("err:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
}

// TestContrastNamesThePair: a text colour without enough contrast on its
// background names both fields, either of which may be the one to change,
// and where a colour the site left out comes from.
func TestContrastNamesThePair(t *testing.T) {
	const head = `sites:
  - id: shop
    name: Shop AB
    origins: [https://shop.example]
    privacy_policy_url: /privacy
    theme:
`
	tests := []struct{ theme, want string }{
		{"      button_background: \"#777777\"\n      button_text: \"#ffffff\"\n",
			`shop.yaml: site "shop": theme: button_text on button_background: settings button text #ffffff on #777777 has contrast 4.48:1, below 4.5:1; change either colour`},
		{"      button_background: \"#777777\"\n",
			`shop.yaml: site "shop": theme: button_text (the default) on button_background: settings button text #ffffff on #777777`},
		{"      background: \"#ffffff\"\n      text: \"#aaaaaa\"\n",
			`shop.yaml: site "shop": theme: text on background: banner text #aaaaaa on #ffffff`},
	}
	for _, tt := range tests {
		_, err := siteconfig.Parse("shop.yaml", []byte(head+tt.theme))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("theme\n%s: err = %v, want %s", tt.theme, err, tt.want)
		}
	}
}

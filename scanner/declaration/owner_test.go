package declaration_test

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
	"github.com/crumbhq/crumb/scanner/declaration"
)

// ownerReport is a small shop's scan, classified by the embedded
// knowledge: a generic session cookie, crumb's consent cookie, an unknown
// first-party key, Hotjar's cookies set before consent and _ga after it.
func ownerReport(t *testing.T) *scanner.Report {
	t.Helper()
	c, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	none := []string{scanner.ModeNone, scanner.ModeAcceptAll}
	after := []string{scanner.ModeAcceptAll}
	r := &scanner.Report{
		SiteDomain: "localhost", StartedAt: time.Date(2026, 11, 23, 20, 30, 0, 0, time.UTC),
		Items: []scanner.Item{
			{Kind: scanner.Cookie, Name: "sessionid", Domain: "localhost", Party: scanner.FirstParty, Session: true, SetVia: "http", SeenIn: none},
			{Kind: scanner.Cookie, Name: "crumb_consent", Domain: "localhost", Party: scanner.FirstParty, Lifetime: scanner.Duration(180 * 24 * time.Hour), SetVia: "script", SetBy: "http://localhost/crumb.js", SeenIn: after},
			{Kind: scanner.LocalStorage, Name: "nk_recent_products", Domain: "localhost", Party: scanner.FirstParty, SetVia: "script", SetBy: "http://localhost/shop.js", SeenIn: none},
			{Kind: scanner.Cookie, Name: "_hjSessionUser_3456789", Domain: "localhost", Party: scanner.FirstParty, Lifetime: scanner.Duration(365 * 24 * time.Hour), SetVia: "script", SetBy: "https://static.hotjar.com/c/hotjar.js", SeenIn: none},
			{Kind: scanner.SessionStorage, Name: "_hjSession_3456789", Domain: "localhost", Party: scanner.FirstParty, SetVia: "script", SetBy: "https://static.hotjar.com/c/hotjar.js", SeenIn: none},
			{Kind: scanner.Cookie, Name: "_ga", Domain: "localhost", Party: scanner.FirstParty, Lifetime: scanner.Duration(400 * 24 * time.Hour), SetVia: "script", SetBy: "https://www.googletagmanager.com/gtag/js", SeenIn: after},
		},
	}
	c.ClassifyReport(r)
	return r
}

// TestOwnItemsNameTheSiteOwner: the site's own items are the site owner's
// (named by Options.Controller, else "the website" in the declaration's
// language), never a generic framework in English, a product alone or a
// bare host; a purpose names no framework the site may not run.
func TestOwnItemsNameTheSiteOwner(t *testing.T) {
	r := ownerReport(t)
	tests := []struct {
		name, lang, controller string
		want, notWant          []string
	}{
		{"sv with controller", "sv", "Norrsken Kaffe AB", []string{
			"| `sessionid` | Norrsken Kaffe AB | Håller ihop besökarens session. |",
			"| `crumb_consent` | Norrsken Kaffe AB (med crumb) |",
			"| `nk_recent_products` | Norrsken Kaffe AB |",
			"| `_ga` | Google Analytics |",
		}, []string{"Web framework", "Django", "| localhost |", "| crumb |"}},
		{"sv without", "sv", "", []string{
			"| `sessionid` | Webbplatsen |", "| `crumb_consent` | Webbplatsen (med crumb) |", "| `nk_recent_products` | Webbplatsen |",
		}, []string{"Web framework", "Django", "| localhost |"}},
		{"en without", "en", "", []string{
			"| `sessionid` | This website | Keeps the visitor's session together. |", "| `nk_recent_products` | This website |",
		}, []string{"Web framework", "Django", "| localhost |"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, format := range []string{"md", "html"} {
				var b bytes.Buffer
				if err := declaration.WriteReport(&b, r, format, tt.lang, declaration.Options{Controller: tt.controller}); err != nil {
					t.Fatal(err)
				}
				for _, w := range tt.want {
					if format == "html" {
						w = strings.TrimSuffix(strings.SplitN(w, " | ", 2)[1], " |")
						w = "<td>" + strings.ReplaceAll(template.HTMLEscapeString(w), " | ", "</td><td>") + "</td>"
					}
					if !strings.Contains(b.String(), w) {
						t.Errorf("%s: missing %q in:\n%s", format, w, b.String())
					}
				}
				for _, w := range tt.notWant {
					if format == "html" {
						w = strings.ReplaceAll(strings.Trim(w, "| "), " | ", "</td><td>")
						w = "<td>" + w + "</td>"
					}
					if strings.Contains(b.String(), w) {
						t.Errorf("%s: unexpected %q in:\n%s", format, w, b.String())
					}
				}
			}
		})
	}
}

// TestBeforeConsentNoted: a category that needs consent, in which the scan
// saw items before any consent, is not introduced as used only with
// consent; a visible note lists those items, and Table.BeforeConsent
// gives them to the operator. Necessary and unclassified items seen
// before consent are not listed.
func TestBeforeConsentNoted(t *testing.T) {
	r := ownerReport(t)
	var pre []string
	for _, tab := range declaration.Tables(r) {
		for _, row := range tab.BeforeConsent() {
			pre = append(pre, string(tab.Category)+":"+row.Name)
		}
	}
	if got, want := strings.Join(pre, ","), "analytics:_hjSessionUser_3456789,analytics:_hjSession_3456789"; got != want {
		t.Errorf("BeforeConsent: %s, want %s", got, want)
	}
	tests := []struct {
		lang, claim, note string
	}{
		{"sv", "De används bara om du samtycker.", "Vid genomsökningen sattes följande redan innan något samtycke hade getts, vilket är ett fel som ska rättas: _hjSessionUser_3456789, _hjSession_3456789."},
		{"en", "They are used only if you consent.", "the scan found the following set before any consent was given, which is an error to be fixed: _hjSessionUser_3456789, _hjSession_3456789."},
	}
	for _, tt := range tests {
		for _, format := range []string{"md", "html"} {
			var b bytes.Buffer
			if err := declaration.WriteReport(&b, r, format, tt.lang, declaration.Options{}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if format == "md" {
				out = strings.ReplaceAll(out, `\_`, "_")
			}
			if strings.Contains(out, tt.claim) {
				t.Errorf("%s %s: claims %q although Hotjar's cookies were set before consent:\n%s", tt.lang, format, tt.claim, out)
			}
			if !strings.Contains(out, tt.note) {
				t.Errorf("%s %s: missing the note %q:\n%s", tt.lang, format, tt.note, out)
			}
		}
	}
}

// TestProviderText: the exported wording of the provider cell is the
// declaration's, by language, and "" in a language without texts.
func TestProviderText(t *testing.T) {
	own := declaration.Row{Name: "sessionid", Domain: "localhost", Provider: "Web framework (a name several frameworks use)", Party: scanner.FirstParty}
	product := declaration.Row{Name: "crumb_consent", Domain: "localhost", Provider: "crumb", Party: scanner.FirstParty}
	unknown := declaration.Row{Name: "__cf_bm", Domain: "cdn.example", Provider: "cdn.example", Party: scanner.ThirdParty}
	tests := []struct {
		lang       string
		r          declaration.Row
		controller string
		want       string
	}{
		{"sv", own, "Norrsken Kaffe AB", "Norrsken Kaffe AB"},
		{"sv", own, "", "Webbplatsen"},
		{"en", own, "", "This website"},
		{"sv", product, "Norrsken Kaffe AB", "Norrsken Kaffe AB (med crumb)"},
		{"en", product, "Norrsken Kaffe AB", "Norrsken Kaffe AB (using crumb)"},
		{"sv", unknown, "Norrsken Kaffe AB", "Okänd"},
		{"de", own, "Norrsken Kaffe AB", ""},
	}
	for _, tt := range tests {
		if got := declaration.ProviderText(tt.lang, tt.r, scanner.Necessary, tt.controller); got != tt.want {
			t.Errorf("ProviderText(%s, %s, %q) = %q, want %q", tt.lang, tt.r.Name, tt.controller, got, tt.want)
		}
	}
}

package declaration_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/declaration"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func readReport(t *testing.T) *scanner.Report {
	t.Helper()
	b, err := os.ReadFile("testdata/report.json")
	if err != nil {
		t.Fatal(err)
	}
	var r scanner.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestGolden renders testdata/report.json in every format and language and
// compares with testdata/declaration.<lang>.<format>; -update rewrites them.
func TestGolden(t *testing.T) {
	r := readReport(t)
	for _, format := range []string{"html", "md"} {
		for _, lang := range declaration.Languages {
			name := "declaration." + lang + "." + format
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := declaration.Write(&buf, r, format, lang, nil); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", name)
				if *update {
					if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if got := buf.String(); got != string(want) {
					t.Errorf("%s differs from the golden file (run with -update if the change is right):\n%s", name, got)
				}
			})
		}
	}
}

// TestEscaping: names, providers and purposes never become markup.
func TestEscaping(t *testing.T) {
	r := readReport(t)
	var h, m bytes.Buffer
	if err := declaration.Write(&h, r, "html", "en", nil); err != nil {
		t.Fatal(err)
	}
	if err := declaration.Write(&m, r, "md", "en", nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<b>", "<Shop>"} {
		if strings.Contains(h.String(), bad) {
			t.Errorf("%q reached the HTML unescaped", bad)
		}
	}
	// In Markdown a name is a code span, whose text is shown literally;
	// everything else is escaped.
	if !strings.Contains(m.String(), "`tjs\\|<b>`") || strings.Contains(m.String(), "<Shop>") || strings.Contains(m.String(), "_your_") {
		t.Errorf("Markdown not escaped:\n%s", m.String())
	}
	for _, line := range strings.Split(m.String(), "\n") {
		if strings.HasPrefix(line, "| `") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 7 {
			t.Errorf("a cell broke the Markdown table: %s", line)
		}
	}
}

func TestTables(t *testing.T) {
	tables := declaration.Tables(readReport(t))
	var order []string
	for _, tab := range tables {
		order = append(order, string(tab.Category))
	}
	if got, want := strings.Join(order, ","), "necessary,analytics,marketing,preferences,unclassified"; got != want {
		t.Fatalf("categories %s, want %s", got, want)
	}
	ga := tables[1].Rows[0]
	if ga.Name != "_ga" || ga.Expiry["sv"] != "13 månader" || ga.Expiry["en"] != "13 months" || ga.Party != scanner.FirstParty || ga.Domain != "example.org" {
		t.Errorf("_ga row: %+v (want one row with the longest lifetime)", ga)
	}
	if n := len(tables[1].Rows); n != 3 {
		t.Errorf("analytics rows: %d, want 3 (_ga once, _ga_ABC123XYZ, hjViewportId)", n)
	}
	// Written by Google's script: Google reads it. Written by the site's own
	// script: nobody else does.
	if ga.SharedWith != "googletagmanager.com" || tables[1].Rows[2].Name != "hjViewportId" || tables[1].Rows[2].SharedWith != "" {
		t.Errorf("shared with: _ga %q, %s %q; want googletagmanager.com and none", ga.SharedWith, tables[1].Rows[2].Name, tables[1].Rows[2].SharedWith)
	}
	mystery := tables[4].Rows[1]
	if mystery.Name != "mystery`id" || mystery.Provider != "example.org" || mystery.Expiry["en"] != "2 days" {
		t.Errorf("unclassified row: %+v (provider falls back to the domain, lifetime from the expiry)", mystery)
	}
}

func TestWriteErrors(t *testing.T) {
	r := readReport(t)
	if err := declaration.Write(&bytes.Buffer{}, r, "pdf", "sv", nil); !errors.Is(err, declaration.ErrFormat) {
		t.Errorf("format pdf: %v", err)
	}
	if err := declaration.Write(&bytes.Buffer{}, r, "html", "de", nil); !errors.Is(err, declaration.ErrLanguage) {
		t.Errorf("language de: %v", err)
	}
	var buf bytes.Buffer
	if err := declaration.Write(&buf, &scanner.Report{}, "md", "sv", nil); err != nil || !strings.Contains(buf.String(), "lagrar ingenting") {
		t.Errorf("empty report: %v %q", err, buf.String())
	}
}

// TestSiteCategoryNames: a category the site defined is headed by the
// name the site gave it, in the declaration's language, and by its id
// only when it has none; the site may also reword a built-in category.
func TestSiteCategoryNames(t *testing.T) {
	r := readReport(t)
	names := map[scanner.Category]declaration.CategoryText{
		"preferences": {
			Name:        map[string]string{"sv": "Inställningar", "en": "Preferences"},
			Description: map[string]string{"sv": "Kommer ihåg dina val, som språk.", "en": "Remember your choices, such as language."},
		},
		scanner.Analytics: {Name: map[string]string{"en": "Visitor statistics"}},
	}
	tests := []struct {
		name, lang, format string
		names              map[scanner.Category]declaration.CategoryText
		want, notWant      []string
	}{
		{"sv html", "sv", "html", names, []string{">Inställningar<", "Kommer ihåg dina val, som språk."}, []string{">preferences<"}},
		{"en md", "en", "md", names, []string{"### Preferences", "Remember your choices, such as language.", "### Visitor statistics"}, []string{"### preferences", "### Statistics"}},
		{"no names: the id", "en", "md", nil, []string{"### preferences"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := declaration.Write(&b, r, tt.format, tt.lang, tt.names); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("missing %q in:\n%s", w, b.String())
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(b.String(), w) {
					t.Errorf("unexpected %q in:\n%s", w, b.String())
				}
			}
		})
	}
}

// TestGuessesAreNotDeclaredAsFact: an item only a guess from its name
// puts in a category (chat_visitor, "visitor" sounding like analytics) is
// never listed under that category, in the declaration or the banner's
// tables: it is under "not yet classified", with the proposal named as
// unconfirmed. So is such a guess in a report written while name
// heuristics still decided (category analytics, confidence low).
func TestGuessesAreNotDeclaredAsFact(t *testing.T) {
	proposal := &scanner.Classification{Category: scanner.Unclassified, Proposed: scanner.Analytics,
		Confidence: scanner.ConfidenceNone, Source: scanner.SourceHeuristic, Reason: "guess from the name"}
	older := &scanner.Classification{Category: scanner.Analytics, Confidence: scanner.ConfidenceLow,
		Source: scanner.SourceHeuristic, Reason: "guess from the name"}
	released := &scanner.Classification{Category: scanner.Analytics, Provider: "chat.widgetvendor.example",
		Confidence: scanner.ConfidenceLow, Source: scanner.SourceReleased, Reason: "released by analytics"}
	tests := []struct {
		name         string
		c            *scanner.Classification
		wantCategory scanner.Category
		wantProposed scanner.Category
		want         map[string][]string // by language: text the Markdown must hold
		notWant      []string
	}{
		{"a proposal", proposal, scanner.Unclassified, scanner.Analytics, map[string][]string{
			"sv": {"### Ännu inte klassificerade (granskas)", "| `chat_visitor` | Okänd | Syftet är ännu inte fastställt. Föreslagen kategori, ännu inte bekräftad: Statistik. |"},
			"en": {"### Not yet classified (under review)", "| `chat_visitor` | Unknown | Purpose not yet established. Proposed category, not yet confirmed: Statistics. |"},
		}, []string{"### Statistik", "### Statistics"}},
		{"an older report's guess", older, scanner.Unclassified, scanner.Analytics, map[string][]string{
			"sv": {"### Ännu inte klassificerade (granskas)", "Föreslagen kategori, ännu inte bekräftad: Statistik."},
			"en": {"### Not yet classified (under review)", "Proposed category, not yet confirmed: Statistics."},
		}, []string{"### Statistik", "### Statistics"}},
		{"released by a grant: mode", released, scanner.Analytics, "", map[string][]string{
			"sv": {"### Statistik"}, "en": {"### Statistics"},
		}, []string{"granskas", "under review", "Proposed", "Föreslagen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &scanner.Report{SiteDomain: "example.org", Items: []scanner.Item{{
				Kind: scanner.LocalStorage, Name: "chat_visitor", Domain: "chat.widgetvendor.example",
				Party: scanner.ThirdParty, SeenIn: []string{scanner.ModeAcceptAll}, Classification: tt.c,
			}}}
			tables := declaration.Tables(r)
			if len(tables) != 1 || tables[0].Category != tt.wantCategory || len(tables[0].Rows) != 1 || tables[0].Rows[0].Proposed != tt.wantProposed {
				t.Fatalf("tables %+v, want one %s table with chat_visitor proposed %q", tables, tt.wantCategory, tt.wantProposed)
			}
			for _, lang := range declaration.Languages {
				for _, format := range []string{"md", "html"} {
					var b bytes.Buffer
					if err := declaration.Write(&b, r, format, lang, nil); err != nil {
						t.Fatal(err)
					}
					for _, w := range tt.want[lang] {
						if format == "html" {
							w = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(w, "### "), "| `chat_visitor` | Okänd | "), "| `chat_visitor` | Unknown | ")
							w = strings.TrimSuffix(w, " |")
						}
						if !strings.Contains(b.String(), w) {
							t.Errorf("%s %s: missing %q in:\n%s", lang, format, w, b.String())
						}
					}
					for _, w := range tt.notWant {
						if format == "md" && strings.Contains(b.String(), w) {
							t.Errorf("%s %s: unexpected %q in:\n%s", lang, format, w, b.String())
						}
					}
				}
			}
		})
	}
}

// TestThirdPartyNamed: a third-party row says whose it is, by registrable
// domain, in both languages and formats ("Tredje part (doubleclick.net)").
func TestThirdPartyNamed(t *testing.T) {
	tests := []struct {
		name, domain string
		party        scanner.Party
		want         map[string]string // by language
	}{
		{"cookie domain", ".doubleclick.net", scanner.ThirdParty, map[string]string{"sv": "Tredje part (doubleclick.net)", "en": "Third party (doubleclick.net)"}},
		{"host under it", "stats.g.doubleclick.net", scanner.ThirdParty, map[string]string{"sv": "Tredje part (doubleclick.net)", "en": "Third party (doubleclick.net)"}},
		{"public suffix", "chat.widget.co.uk", scanner.ThirdParty, map[string]string{"sv": "Tredje part (widget.co.uk)", "en": "Third party (widget.co.uk)"}},
		{"no domain", "", scanner.ThirdParty, map[string]string{"sv": "| Tredje part |", "en": "| Third party |"}},
		{"first party", "www.example.org", scanner.FirstParty, map[string]string{"sv": "| Första part |", "en": "| First party |"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &scanner.Report{SiteDomain: "example.org", Items: []scanner.Item{{
				Kind: scanner.Cookie, Name: "IDE", Domain: tt.domain, Party: tt.party,
				Classification: &scanner.Classification{Category: scanner.Marketing, Provider: "Google", Confidence: scanner.ConfidenceHigh, Source: scanner.SourceExact},
			}}}
			for _, lang := range declaration.Languages {
				for _, format := range []string{"md", "html"} {
					var b bytes.Buffer
					if err := declaration.Write(&b, r, format, lang, nil); err != nil {
						t.Fatal(err)
					}
					want := tt.want[lang]
					if format == "html" {
						want = "<td>" + strings.Trim(want, "| ") + "</td></tr>"
					}
					if !strings.Contains(b.String(), want) {
						t.Errorf("%s %s: missing %q in:\n%s", lang, format, want, b.String())
					}
				}
			}
		})
	}
}

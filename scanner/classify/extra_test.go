package classify_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
)

// TestOverrides: the site owner's word beats every rule, and a necessary
// override needs its justification (R32).
func TestOverrides(t *testing.T) {
	c := mustClassifier(t, classify.Options{Overrides: []classify.Override{
		{Name: "_ga", Category: scanner.Marketing, Provider: "Our agency"},
		{Name: "cart_<id>", Category: scanner.Necessary, Justification: "WP194 criterion B, §3.1: the basket the visitor fills"},
		{Name: "pref", Domain: "example.org", Category: "preferences"},
		{Name: "zz_unknown", Category: scanner.Analytics},
	}})
	tests := []struct {
		name   string
		q      classify.Query
		want   scanner.Category
		source scanner.Source
	}{
		{"override beats exact", classify.Query{Name: "_ga", Domain: ".example.org"}, scanner.Marketing, scanner.SourceOverride},
		{"pattern override", classify.Query{Name: "cart_42abc", Domain: "example.org"}, scanner.Necessary, scanner.SourceOverride},
		{"site-defined category", classify.Query{Name: "pref", Domain: "www.example.org"}, "preferences", scanner.SourceOverride},
		{"domain-limited override elsewhere", classify.Query{Name: "pref", Domain: "other.net", Party: scanner.ThirdParty}, scanner.Unclassified, scanner.SourceNone},
		{"override beats tracker domain", classify.Query{Name: "zz_unknown", Domain: ".doubleclick.net"}, scanner.Analytics, scanner.SourceOverride},
		{"no override: knowledge base", classify.Query{Name: "_gid"}, scanner.Analytics, scanner.SourceExact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Classify(tt.q)
			if got.Category != tt.want || got.Source != tt.source {
				t.Fatalf("got %s/%s (%s), want %s/%s", got.Category, got.Source, got.Reason, tt.want, tt.source)
			}
			if tt.source == scanner.SourceOverride && got.Confidence != scanner.ConfidenceHigh {
				t.Errorf("override confidence %s, want high", got.Confidence)
			}
		})
	}
	if got := c.Classify(classify.Query{Name: "cart_1"}); !strings.Contains(got.Justification, "WP194") {
		t.Errorf("necessary override lost its justification: %+v", got)
	}

	bad := []struct {
		name string
		o    classify.Override
		want string
	}{
		{"necessary without justification", classify.Override{Name: "x", Category: scanner.Necessary}, "needs a justification"},
		{"bad category", classify.Override{Name: "x", Category: "Not Valid"}, "not a category id"},
		{"no name", classify.Override{Category: scanner.Analytics}, "name required"},
		{"bad pattern", classify.Override{Name: "x<nope>", Category: scanner.Analytics}, "unknown placeholder"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := classify.New(classify.Options{Overrides: []classify.Override{tt.o}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	_, err := classify.New(classify.Options{Overrides: []classify.Override{{Name: "x", Category: scanner.Necessary}}})
	if !errors.Is(err, classify.ErrJustification) {
		t.Errorf("err = %v, want ErrJustification", err)
	}
}

// TestOpenCookieDatabase imports testdata/ocd.csv, a fixture in the Open
// Cookie Database's CSV format, and maps its categories.
func TestOpenCookieDatabase(t *testing.T) {
	c := mustClassifier(t, classify.Options{ExtraDB: []string{"testdata/ocd.csv"}})
	tests := []struct {
		q     classify.Query
		want  scanner.Category
		src   scanner.Source
		check func(scanner.Classification) string
	}{
		// Functional and Security rows only propose necessary (R32).
		{q: classify.Query{Name: "acme_sess"}, want: scanner.Unclassified, src: scanner.SourceExact, check: func(v scanner.Classification) string {
			if v.Proposed != scanner.Necessary || v.Justification != "" || !strings.Contains(v.Reason, "proposed necessary (listed as Functional") {
				return "Functional leaves the item unclassified with necessary proposed and no justification"
			}
			if v.Purpose["en"] != "Keeps the shopper's session, basket included" || v.Provider != "Acme Shop (Acme)" || !strings.Contains(v.Reason, "ocd.csv:2") {
				return "purpose and provider come from the row"
			}
			return ""
		}},
		{q: classify.Query{Name: "acme_guard", Domain: "x.acme-shield.example"}, want: scanner.Unclassified, src: scanner.SourceExact, check: func(v scanner.Classification) string {
			if v.Proposed != scanner.Necessary {
				return "Security proposes necessary"
			}
			return ""
		}},
		// A proposal yields to a rule that decides: a Functional row for a
		// name on a tracker's domain, a heuristic's advertising word.
		{q: classify.Query{Name: "acme_sess", Domain: ".doubleclick.net", Party: scanner.ThirdParty}, want: scanner.Marketing, src: scanner.SourceDomain},
		{q: classify.Query{Name: "acme_guard", Domain: "example.org", Party: scanner.FirstParty}, want: scanner.Unclassified, src: scanner.SourceNone},
		{q: classify.Query{Name: "acme_stats_9f8e"}, want: scanner.Analytics, src: scanner.SourcePattern},
		{q: classify.Query{Name: "acme_ads"}, want: scanner.Marketing, src: scanner.SourceExact, check: func(v scanner.Classification) string {
			if v.Provider != "Acme Ads (Acme Ads Inc)" {
				return "provider names the data controller: " + v.Provider
			}
			return ""
		}},
		{q: classify.Query{Name: "acme_theme"}, want: scanner.Unclassified, src: scanner.SourceNone},
		{q: classify.Query{Name: "_ga"}, want: scanner.Analytics, src: scanner.SourceExact},
	}
	for _, tt := range tests {
		got := c.Classify(tt.q)
		if got.Category != tt.want || got.Source != tt.src {
			t.Errorf("%s: got %s/%s (%s), want %s/%s", tt.q.Name, got.Category, got.Source, got.Reason, tt.want, tt.src)
			continue
		}
		if tt.check != nil {
			if msg := tt.check(got); msg != "" {
				t.Errorf("%s: %s: %+v", tt.q.Name, msg, got)
			}
		}
	}
}

// TestExtraKnowledge loads a file in crumb's own format.
func TestExtraKnowledge(t *testing.T) {
	c := mustClassifier(t, classify.Options{ExtraDB: []string{"testdata/extra.kb", "testdata/ocd.csv"}})
	if got := c.Classify(classify.Query{Name: "acme_chat_x1"}); got.Category != scanner.Analytics || got.Provider != "Acme Chat" || got.Confidence != scanner.ConfidenceMedium {
		t.Errorf("acme_chat_x1: %+v", got)
	}
	if got := c.Classify(classify.Query{Name: "acme_chat_csrf"}); got.Category != scanner.Necessary || got.Source != scanner.SourceExact {
		t.Errorf("acme_chat_csrf: %+v", got)
	}
	if got := c.Classify(classify.Query{Name: "acme_ads"}); got.Category != scanner.Marketing {
		t.Errorf("the second file was not loaded: %+v", got)
	}
}

// TestBadDatabases: each file under testdata/invalid fails with the error in
// the .err file beside it, naming file and line.
func TestBadDatabases(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.err")
	if len(files) == 0 {
		t.Fatal("no invalid fixtures")
	}
	for _, errFile := range files {
		base := strings.TrimSuffix(errFile, ".err")
		db := base + ".kb"
		if _, err := os.Stat(db); err != nil {
			db = base + ".csv"
		}
		t.Run(filepath.Base(db), func(t *testing.T) {
			want, err := os.ReadFile(errFile)
			if err != nil {
				t.Fatal(err)
			}
			_, err = classify.New(classify.Options{ExtraDB: []string{db}})
			if err == nil || !strings.Contains(err.Error(), strings.TrimSpace(string(want))) {
				t.Fatalf("err = %v\nwant it to contain %q", err, strings.TrimSpace(string(want)))
			}
		})
	}
	if _, err := classify.New(classify.Options{ExtraDB: []string{"testdata/no-such-file.csv"}}); err == nil || !strings.Contains(err.Error(), "no-such-file.csv") {
		t.Errorf("missing file: err = %v", err)
	}
}

// TestReleasedBy: an item no knowledge covers takes the category whose
// consent alone released it in the scan, with low confidence; knowledge
// still wins, and necessary is never taken from a scan.
func TestReleasedBy(t *testing.T) {
	c := mustClassifier(t, classify.Options{})
	for _, tt := range []struct {
		name string
		q    classify.Query
		want scanner.Category
		src  scanner.Source
	}{
		{"unknown, released by analytics", classify.Query{Name: "bk_vid", Domain: ".example.org", SetBy: "https://cdn.example.net/bk.js", Party: scanner.FirstParty, ReleasedBy: scanner.Analytics}, scanner.Analytics, scanner.SourceReleased},
		{"a site's own category", classify.Query{Name: "bk_chat", Domain: ".example.org", Party: scanner.FirstParty, ReleasedBy: "support_chat"}, "support_chat", scanner.SourceReleased},
		{"beats a name heuristic", classify.Query{Name: "ad_seen", Domain: ".example.org", Party: scanner.FirstParty, ReleasedBy: scanner.Analytics}, scanner.Analytics, scanner.SourceReleased},
		{"knowledge wins", classify.Query{Name: "_fbp", Domain: ".example.org", Party: scanner.FirstParty, ReleasedBy: scanner.Analytics}, scanner.Marketing, scanner.SourceExact},
		{"never necessary", classify.Query{Name: "bk_vid", Domain: ".example.org", Party: scanner.FirstParty, ReleasedBy: scanner.Necessary}, scanner.Unclassified, scanner.SourceNone},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Classify(tt.q)
			if got.Category != tt.want || got.Source != tt.src {
				t.Fatalf("got %s/%s (%s), want %s/%s", got.Category, got.Source, got.Reason, tt.want, tt.src)
			}
			if got.Source == scanner.SourceReleased && (got.Confidence != scanner.ConfidenceLow || got.Provider == "" || !strings.Contains(got.Reason, "grant:")) {
				t.Errorf("verdict %+v", got)
			}
		})
	}
}

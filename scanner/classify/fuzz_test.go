package classify_test

import (
	"testing"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
)

// FuzzClassify: Classify never panics, always gives a reason, and never
// says necessary by heuristic (it may only propose it, for a first-party
// session item).
// Run longer with: go test -fuzz FuzzClassify ./scanner/classify
func FuzzClassify(f *testing.F) {
	seeds := []struct {
		name, domain, setBy string
		third, session      bool
	}{
		{"_ga", ".example.org", "", false, false},
		{"_ga_ABC123XYZ", "", "", false, false},
		{"_pk_id.1.abcd", "example.org", "", false, false},
		{"PHPSESSID", "example.org", "", false, true},
		{"x-csrf", "othersite.net", "https://othersite.net/a.js", true, true},
		{"", "", "", false, false},
		{"<id>*", "..", "http://[::1", true, false},
		{"\x00\xff", ".", "://", false, true},
		{"ph_phc_x_posthog", "doubleclick.net", "%zz", true, false},
	}
	for _, s := range seeds {
		f.Add(s.name, s.domain, s.setBy, s.third, s.session)
	}
	c, err := classify.New(classify.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, domain, setBy string, third, session bool) {
		party := scanner.FirstParty
		if third {
			party = scanner.ThirdParty
		}
		for _, kind := range []scanner.Kind{"", scanner.Cookie, scanner.LocalStorage} {
			q := classify.Query{Name: name, Kind: kind, Domain: domain, SetBy: setBy, Party: party, Session: session, SiteDomain: "example.org"}
			v := c.Classify(q)
			if v.Reason == "" || v.Category == "" {
				t.Fatalf("%+v: empty verdict %+v", q, v)
			}
			if v.Category == scanner.Necessary && v.Source == scanner.SourceHeuristic {
				t.Fatalf("%+v: heuristic necessary %+v", q, v)
			}
			if v.Proposed == scanner.Necessary && v.Source == scanner.SourceHeuristic && (third || !session) {
				t.Fatalf("%+v: heuristic proposes necessary %+v", q, v)
			}
			if v.Category == scanner.Necessary && v.Justification == "" {
				t.Fatalf("%+v: necessary without justification %+v", q, v)
			}
		}
	})
}

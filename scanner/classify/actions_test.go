package classify_test

import (
	"testing"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
)

// TestClassifyReportAndActionItems classifies a report and checks the
// order a site owner sees: pre-consent findings, unclassified items,
// necessary verdicts to confirm, then the rest.
func TestClassifyReportAndActionItems(t *testing.T) {
	c := mustClassifier(t, classify.Options{})
	none, all := []string{scanner.ModeNone, scanner.ModeAcceptAll}, []string{scanner.ModeAcceptAll}
	r := &scanner.Report{SiteDomain: "example.org", Items: []scanner.Item{
		{Kind: scanner.Cookie, Name: "PHPSESSID", Domain: "example.org", Party: scanner.FirstParty, Session: true, SeenIn: none},
		{Kind: scanner.Cookie, Name: "_gid", Domain: ".example.org", Party: scanner.FirstParty, SeenIn: all},
		{Kind: scanner.Cookie, Name: "mystery", Domain: "example.org", Party: scanner.FirstParty, SeenIn: all},
		{Kind: scanner.Cookie, Name: "_ga", Domain: ".example.org", Party: scanner.FirstParty, SeenIn: none},
		{Kind: scanner.Cookie, Name: "app_csrf", Domain: "example.org", Party: scanner.FirstParty, Session: true, SeenIn: none},
		{Kind: scanner.SessionStorage, Name: "hjViewportId", Domain: "example.org", Party: scanner.FirstParty, SeenIn: all},
	}}
	c.ClassifyReport(r)
	for _, it := range r.Items {
		if it.Classification == nil {
			t.Fatalf("%s: not classified", it.Name)
		}
	}
	if got := r.Items[5].Classification.Category; got != scanner.Analytics {
		t.Errorf("hjViewportId: %s", got)
	}
	got := classify.ActionItems(r)
	want := []struct {
		name    string
		problem classify.Problem
	}{
		{"_ga", classify.PreConsent},
		{"mystery", classify.NotClassified},
		{"app_csrf", classify.Unconfirmed},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d findings %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].Item.Name != w.name || got[i].Problem != w.problem {
			t.Errorf("finding %d: got %s/%s, want %s/%s", i, got[i].Item.Name, got[i].Problem, w.name, w.problem)
		}
	}
	items := append([]scanner.Item(nil), r.Items...)
	classify.SortItems(items)
	order := ""
	for _, it := range items {
		order += it.Name + " "
	}
	if want := "_ga mystery app_csrf PHPSESSID _gid hjViewportId "; order != want {
		t.Errorf("order %q, want %q", order, want)
	}
	if p := classify.ProblemOf(scanner.Item{Name: "x", SeenIn: none}); p != classify.PreConsent {
		t.Errorf("an unclassified item seen before consent: %q", p)
	}
}

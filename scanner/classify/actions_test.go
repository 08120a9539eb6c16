package classify_test

import (
	"strings"
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
		{Kind: scanner.Cookie, Name: "shop_sess", Domain: "example.org", Party: scanner.FirstParty, Session: true, SeenIn: all},
	}, ThirdPartyHosts: []scanner.Host{
		{Host: "px.ads.linkedin.com", Requests: 2, SeenIn: none},
		{Host: "fonts.example.net", Requests: 1, SeenIn: none},
		{Host: "connect.facebook.net", Requests: 1, SeenIn: all},
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
	// Only the knowledge base or an override says necessary (R32): a
	// session cookie whose name looks like a CSRF token is unclassified with
	// necessary proposed, a pre-consent finding when seen before consent and
	// one to confirm otherwise.
	for _, name := range []string{"app_csrf", "shop_sess"} {
		v := find(t, r, name).Classification
		if v.Category != scanner.Unclassified || v.Proposed != scanner.Necessary || !strings.Contains(v.Reason, "WP194") {
			t.Errorf("%s: %+v, want unclassified with necessary proposed under its WP194 exemption", name, v)
		}
	}
	// The tracker host is known as such; the font host is not.
	if tr := r.ThirdPartyHosts[0].Tracker; tr == nil || tr.Provider != "LinkedIn" || tr.Category != scanner.Marketing {
		t.Errorf("px.ads.linkedin.com: tracker %+v", tr)
	}
	if tr := r.ThirdPartyHosts[1].Tracker; tr != nil {
		t.Errorf("fonts.example.net: tracker %+v", tr)
	}
	got := classify.ActionItems(r)
	want := []struct {
		name    string
		problem classify.Problem
	}{
		{"_ga", classify.PreConsent},
		{"app_csrf", classify.PreConsent},
		{"host px.ads.linkedin.com", classify.PreConsent},
		{"mystery", classify.NotClassified},
		{"shop_sess", classify.Unconfirmed},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d findings %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		name := ""
		switch {
		case got[i].Item != nil && got[i].Host == nil:
			name = got[i].Item.Name
		case got[i].Host != nil && got[i].Item == nil:
			name = "host " + got[i].Host.Host
		}
		if name != w.name || got[i].Problem != w.problem {
			t.Errorf("finding %d: got %s/%s, want %s/%s", i, name, got[i].Problem, w.name, w.problem)
		}
	}
	items := append([]scanner.Item(nil), r.Items...)
	classify.SortItems(items)
	order := ""
	for _, it := range items {
		order += it.Name + " "
	}
	if want := "_ga app_csrf mystery shop_sess PHPSESSID _gid hjViewportId "; order != want {
		t.Errorf("order %q, want %q", order, want)
	}
	if p := classify.ProblemOf(scanner.Item{Name: "x", SeenIn: none}); p != classify.PreConsent {
		t.Errorf("an unclassified item seen before consent: %q", p)
	}
}

func find(t *testing.T, r *scanner.Report, name string) scanner.Item {
	t.Helper()
	for _, it := range r.Items {
		if it.Name == name {
			return it
		}
	}
	t.Fatalf("no item %q", name)
	return scanner.Item{}
}

// TestGuessesAreProposals: a guess from the name is never a verdict. A
// chat widget's chat_visitor key is not analytics because its name says
// "visitor": it stays unclassified with analytics proposed, and is a
// finding for the site owner to confirm. Curated knowledge (the knowledge
// base, a tracker domain, a release by one category's consent) still
// decides. A report classified while heuristics still decided reads the
// same way.
func TestGuessesAreProposals(t *testing.T) {
	c := mustClassifier(t, classify.Options{})
	all := []string{scanner.ModeAcceptAll}
	tests := []struct {
		name         string
		q            classify.Query
		wantCategory scanner.Category
		wantProposed scanner.Category
		wantSource   scanner.Source
		wantProblem  classify.Problem
	}{
		{"chat widget's visitor key", classify.Query{Name: "chat_visitor", Kind: scanner.LocalStorage, Domain: "chat.widgetvendor.example", Party: scanner.ThirdParty},
			scanner.Unclassified, scanner.Analytics, scanner.SourceHeuristic, classify.NotClassified},
		{"advertising word", classify.Query{Name: "promo_campaign_src", Kind: scanner.Cookie, Domain: "example.org", Party: scanner.FirstParty},
			scanner.Unclassified, scanner.Marketing, scanner.SourceHeuristic, classify.NotClassified},
		{"knowledge base decides", classify.Query{Name: "_ga", Kind: scanner.Cookie, Domain: ".example.org", Party: scanner.FirstParty},
			scanner.Analytics, "", scanner.SourceExact, ""},
		{"tracker domain decides", classify.Query{Name: "zz_visitor", Kind: scanner.Cookie, Domain: ".doubleclick.net", Party: scanner.ThirdParty},
			scanner.Marketing, "", scanner.SourceDomain, ""},
		{"a grant: release decides", classify.Query{Name: "chat_visitor", Kind: scanner.LocalStorage, Domain: "chat.widgetvendor.example", Party: scanner.ThirdParty, ReleasedBy: scanner.Analytics},
			scanner.Analytics, "", scanner.SourceReleased, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.SiteDomain = "example.org"
			v := c.Classify(tt.q)
			if v.Category != tt.wantCategory || v.Proposed != tt.wantProposed || v.Source != tt.wantSource {
				t.Errorf("%s: %s (proposed %q) from %s, want %s (proposed %q) from %s; reason: %s",
					tt.q.Name, v.Category, v.Proposed, v.Source, tt.wantCategory, tt.wantProposed, tt.wantSource, v.Reason)
			}
			if tt.wantProposed != "" && (v.Confidence != scanner.ConfidenceNone || !strings.Contains(v.Reason, "proposed "+string(tt.wantProposed))) {
				t.Errorf("%s: confidence %s, reason %q: want none, naming the proposal", tt.q.Name, v.Confidence, v.Reason)
			}
			it := scanner.Item{Name: tt.q.Name, Kind: tt.q.Kind, Domain: tt.q.Domain, Party: tt.q.Party, SeenIn: all, Classification: &v}
			if p := classify.ProblemOf(it); p != tt.wantProblem {
				t.Errorf("%s: problem %q, want %q", tt.q.Name, p, tt.wantProblem)
			}
		})
	}
	// As an older crumb wrote the guess: analytics at low confidence.
	old := scanner.Item{Name: "chat_visitor", Kind: scanner.LocalStorage, Domain: "chat.widgetvendor.example", Party: scanner.ThirdParty, SeenIn: all,
		Classification: &scanner.Classification{Category: scanner.Analytics, Confidence: scanner.ConfidenceLow, Source: scanner.SourceHeuristic, Reason: "guess from the name"}}
	if p := classify.ProblemOf(old); p != classify.NotClassified {
		t.Errorf("an older report's guess: problem %q, want %q", p, classify.NotClassified)
	}
	r := &scanner.Report{Items: []scanner.Item{old}}
	if f := classify.ActionItems(r); len(f) != 1 || f[0].Problem != classify.NotClassified {
		t.Errorf("an older report's guess: findings %+v, want one unclassified", f)
	}
}

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

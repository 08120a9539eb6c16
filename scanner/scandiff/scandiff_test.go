package scandiff_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/scandiff"
)

// cookie builds a classified cookie item; category "" leaves it without a
// classification at all, as a scan without a classifier would.
func cookie(name, domain string, cat scanner.Category, provider string, modes ...string) scanner.Item {
	it := scanner.Item{Kind: scanner.Cookie, Name: name, Domain: domain, Path: "/", Party: scanner.FirstParty, SeenIn: modes}
	if cat != "" {
		it.Classification = &scanner.Classification{Category: cat, Provider: provider}
	}
	return it
}

func report(items ...scanner.Item) *scanner.Report {
	return &scanner.Report{SchemaVersion: scanner.SchemaVersion, Items: items}
}

var (
	session   = cookie("PHPSESSID", "shop.se", scanner.Necessary, "PHP", "none", "accept-all")
	ga        = cookie("_ga", ".shop.se", scanner.Analytics, "Google Analytics", "accept-all")
	gaEarly   = cookie("_ga", ".shop.se", scanner.Analytics, "Google Analytics", "none", "accept-all")
	fbp       = cookie("_fbp", ".shop.se", scanner.Marketing, "Meta", "accept-all")
	gcl       = cookie("_gcl_au", ".shop.se", scanner.Marketing, "Google Ads", "accept-all")
	mystery   = cookie("zq_x", "shop.se", scanner.Unclassified, "", "accept-all")
	mysteryPC = cookie("zq_x", "shop.se", scanner.Unclassified, "", "none", "accept-all")
	bare      = cookie("zq_y", "shop.se", "", "", "accept-all")
	gaAsMkt   = cookie("_ga", ".shop.se", scanner.Marketing, "Google Analytics", "accept-all")
	gaAsNone  = cookie("_ga", ".shop.se", scanner.Unclassified, "", "accept-all")
	local     = scanner.Item{Kind: scanner.LocalStorage, Name: "cart", Domain: "shop.se", Origin: "https://shop.se", SeenIn: []string{"none"},
		Classification: &scanner.Classification{Category: scanner.Necessary}}
	localOther = scanner.Item{Kind: scanner.LocalStorage, Name: "cart", Domain: "shop.se", Origin: "https://shop.se:8443", SeenIn: []string{"none"},
		Classification: &scanner.Classification{Category: scanner.Necessary}}
)

func names(es []scandiff.Entry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name                                string
		prev, next                          *scanner.Report
		added, removed, unclassified, early []string
		reclassified                        []string // "name:from>to"
		categories                          []scanner.Category
		providers                           []string
		widens, alerts, empty               bool
	}{
		{
			name: "same scan", prev: report(session, ga), next: report(ga, session),
			empty: true,
		},
		{
			name: "a marketing cookie appears", prev: report(session, ga), next: report(session, ga, fbp),
			added: []string{"_fbp"}, categories: []scanner.Category{scanner.Marketing}, providers: []string{"Meta"},
			widens: true,
		},
		{
			name: "a second marketing provider", prev: report(session, fbp), next: report(session, fbp, gcl),
			added: []string{"_gcl_au"}, providers: []string{"Google Ads"}, widens: true,
		},
		{
			name: "removed items never widen", prev: report(session, ga, fbp), next: report(session),
			removed: []string{"_fbp", "_ga"},
		},
		{
			name: "unclassified item appears", prev: report(session), next: report(session, mystery),
			added: []string{"zq_x"}, unclassified: []string{"zq_x"}, alerts: true,
		},
		{
			name: "an item without classification counts as unclassified", prev: report(session), next: report(session, bare),
			added: []string{"zq_y"}, unclassified: []string{"zq_y"}, alerts: true,
		},
		{
			name: "unclassified stays unclassified: no new alert", prev: report(mystery), next: report(mystery),
			empty: true,
		},
		{
			name: "unclassified now set before consent", prev: report(mystery), next: report(mysteryPC),
			early: []string{"zq_x"}, alerts: true,
		},
		{
			name: "analytics now set before consent", prev: report(session, ga), next: report(session, gaEarly),
			early: []string{"_ga"}, alerts: true,
		},
		{
			name: "necessary before consent is no finding", prev: report(), next: report(session, local),
			added: []string{"PHPSESSID", "cart"},
		},
		{
			name: "re-classified to another consent category", prev: report(ga), next: report(gaAsMkt),
			reclassified: []string{"_ga:analytics>marketing"}, categories: []scanner.Category{scanner.Marketing},
			providers: nil, widens: true,
		},
		{
			name: "re-classified to unclassified", prev: report(ga), next: report(gaAsNone),
			reclassified: []string{"_ga:analytics>unclassified"}, unclassified: []string{"_ga"}, alerts: true,
		},
		{
			name: "storage keys of two origins are two items", prev: report(local), next: report(local, localOther),
			added: []string{"cart"},
		},
		{
			name: "first scan: everything is new", prev: nil, next: report(session, ga, mysteryPC),
			added: []string{"_ga", "PHPSESSID", "zq_x"}, unclassified: []string{"zq_x"}, early: []string{"zq_x"},
			categories: []scanner.Category{scanner.Analytics}, providers: []string{"Google Analytics"},
			widens: true, alerts: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := scandiff.Compare(tt.prev, tt.next)
			check := func(what string, got, want []string) {
				t.Helper()
				if got == nil {
					got = []string{}
				}
				if want == nil {
					want = []string{}
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %q, want %q", what, got, want)
				}
			}
			check("added", names(d.Added), tt.added)
			check("removed", names(d.Removed), tt.removed)
			check("new unclassified", names(d.NewUnclassified), tt.unclassified)
			check("new pre-consent", names(d.NewPreConsent), tt.early)
			var re []string
			for _, r := range d.Reclassified {
				re = append(re, fmt.Sprintf("%s:%s>%s", r.Name, r.From, r.Category))
			}
			check("reclassified", re, tt.reclassified)
			var provs []string
			for _, p := range d.NewProviders {
				provs = append(provs, p.Name)
			}
			check("new providers", provs, tt.providers)
			if !reflect.DeepEqual(d.NewCategories, tt.categories) {
				t.Errorf("new categories = %q, want %q", d.NewCategories, tt.categories)
			}
			if got := d.Widens(); got != tt.widens {
				t.Errorf("Widens() = %v, want %v", got, tt.widens)
			}
			if got := d.Alerts(); got != tt.alerts {
				t.Errorf("Alerts() = %v, want %v", got, tt.alerts)
			}
			if got := d.Empty(); got != tt.empty {
				t.Errorf("Empty() = %v, want %v", got, tt.empty)
			}
		})
	}
}

// TestCompareStable: the same two reports give the same diff, byte for byte,
// whatever the order of their items (maps are iterated at random).
func TestCompareStable(t *testing.T) {
	prev := report(session, ga)
	next := report(fbp, gcl, mystery, session, gaAsMkt, local)
	want, err := json.Marshal(scandiff.Compare(prev, next))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		got, _ := json.Marshal(scandiff.Compare(prev, next))
		if string(got) != string(want) {
			t.Fatalf("run %d: diff changed:\n%s\nwant\n%s", i, got, want)
		}
	}
	var d scandiff.Diff
	if err := json.Unmarshal(want, &d); err != nil {
		t.Fatal(err)
	}
	if got := d.NewProviders; len(got) != 2 || got[0].Name != "Google Ads" || got[1].Name != "Meta" {
		t.Errorf("providers after JSON round trip = %+v", got)
	}
}

func ExampleCompare() {
	before := report(cookie("_ga", ".shop.se", scanner.Analytics, "Google Analytics", "accept-all"))
	after := report(
		cookie("_ga", ".shop.se", scanner.Analytics, "Google Analytics", "accept-all"),
		cookie("_fbp", ".shop.se", scanner.Marketing, "Meta", "none", "accept-all"),
	)
	d := scandiff.Compare(before, after)
	fmt.Println("added:", names(d.Added))
	fmt.Println("new pre-consent:", names(d.NewPreConsent))
	fmt.Println("new categories:", d.NewCategories)
	fmt.Println("ask visitors again:", d.Widens())
	// Output:
	// added: [_fbp]
	// new pre-consent: [_fbp]
	// new categories: [marketing]
	// ask visitors again: true
}

// TestComparePreConsentHosts: a tracker's host newly contacted before
// consent is a finding that alerts (R31), even though it stored nothing;
// an unknown host, one contacted only after consent, or one already
// reported is not.
func TestComparePreConsentHosts(t *testing.T) {
	li := &scanner.Tracker{Domain: "linkedin.com", Provider: "LinkedIn", Category: scanner.Marketing}
	withHosts := func(hosts ...scanner.Host) *scanner.Report {
		r := report(session)
		r.ThirdPartyHosts = hosts
		return r
	}
	pixel := scanner.Host{Host: "px.ads.linkedin.com", SeenIn: []string{"none", "accept-all"}, Tracker: li}
	pixelLate := scanner.Host{Host: "px.ads.linkedin.com", SeenIn: []string{"accept-all"}, Tracker: li}
	font := scanner.Host{Host: "fonts.example.net", SeenIn: []string{"none"}}
	for _, tc := range []struct {
		name       string
		prev, next *scanner.Report
		want       []string
	}{
		{"first scan", nil, withHosts(pixel, font), []string{"px.ads.linkedin.com"}},
		{"newly before consent", withHosts(pixelLate), withHosts(pixel), []string{"px.ads.linkedin.com"}},
		{"already reported", withHosts(pixel), withHosts(pixel), nil},
		{"after consent only", nil, withHosts(pixelLate, font), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := scandiff.Compare(tc.prev, tc.next)
			var got []string
			for _, h := range d.NewPreConsentHosts {
				got = append(got, h.Host)
				if h.Provider != "LinkedIn" || h.Category != scanner.Marketing {
					t.Errorf("host %+v", h)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("new pre-consent hosts %v, want %v", got, tc.want)
			}
			if want := len(tc.want) > 0; d.Alerts() != want {
				t.Errorf("alerts %v, want %v", d.Alerts(), want)
			}
		})
	}
}

// TestCompareReleasedBy: the diff keeps which category released an item.
func TestCompareReleasedBy(t *testing.T) {
	it := ga
	it.ReleasedBy = scanner.Analytics
	d := scandiff.Compare(nil, report(it))
	if len(d.Added) != 1 || d.Added[0].ReleasedBy != scanner.Analytics {
		t.Errorf("added %+v", d.Added)
	}
}

package crawl_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/crawl/crawltest"
)

// TestScanCrumbWidget scans a site that runs crumb's own banner. In
// accept-all mode the scanner sets crumb's consent cookie itself, so the
// gated tags run without a decision being posted to the site's consent log.
func TestScanCrumbWidget(t *testing.T) {
	site, err := crawltest.NewBokhandeln()
	if err != nil {
		t.Fatal(err)
	}
	o := testOptions(t, "https://www.bokhandeln.se/", serve(t, site, crawltest.BokhandelnHosts))
	o.Modes = []string{scanner.ModeNone, scanner.ModeAcceptAll}
	o.MaxPages = 2
	rep, err := scan(t, context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	after := []string{scanner.ModeAcceptAll}
	c := find(t, rep, scanner.Cookie, "crumb_consent")
	if c.SetVia != "scanner" || c.Domain != "www.bokhandeln.se" || c.Party != scanner.FirstParty || !slices.Equal(c.SeenIn, after) || !near(time.Duration(c.Lifetime), 180*day) {
		t.Errorf("crumb_consent %+v", c)
	}
	for _, name := range []string{"_ga", "_ga_BOK1", "IDE"} {
		if it := find(t, rep, scanner.Cookie, name); !slices.Equal(it.SeenIn, after) {
			t.Errorf("%s seen in %v, want only after consent", name, it.SeenIn)
		}
	}
	if n := site.Posts(); n != 0 {
		t.Errorf("%d consent decisions posted to the site's API, want none", n)
	}
	want := regexp.MustCompile(`^1\.[A-Za-z0-9_-]{16,64}\.3\.analytics\+marketing\.\d{10}$`)
	consents := site.Consents()
	if len(consents) == 0 {
		t.Fatal("no page was requested with crumb_consent")
	}
	for _, v := range consents {
		if !want.MatchString(v) {
			t.Errorf("crumb_consent=%q, want %s", v, want)
		}
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool {
		return strings.Contains(n, "set crumb's consent cookie for site \"bokhandeln\", revision 3")
	}) {
		t.Errorf("notes %q", rep.Notes)
	}
}

package crawl_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
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

// TestScanGrantCategory scans the crumb-run bookshop as a visitor without
// consent and as visitors who granted one category alone (R30): Google
// Analytics, gated behind analytics, runs only in grant:analytics and the
// DoubleClick pixel, gated behind marketing, only in grant:marketing, so
// each cookie is attributed to the category that released it. The LinkedIn
// pixel the shop forgot to gate is contacted in every mode, stores nothing,
// and is a pre-consent finding once classified (R31).
func TestScanGrantCategory(t *testing.T) {
	site, err := crawltest.NewBokhandeln()
	if err != nil {
		t.Fatal(err)
	}
	o := testOptions(t, "https://www.bokhandeln.se/", serve(t, site, crawltest.BokhandelnHosts))
	analytics, marketing := scanner.GrantMode(scanner.Analytics), scanner.GrantMode(scanner.Marketing)
	o.Modes = []string{scanner.ModeNone, analytics, marketing}
	o.MaxPages = 2
	rep, err := scan(t, context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Modes, o.Modes) || !slices.Equal(rep.Granted, []string{analytics, marketing}) {
		t.Fatalf("modes %v, granted %v", rep.Modes, rep.Granted)
	}
	for _, tc := range []struct {
		name     string
		seenIn   []string
		released scanner.Category
	}{
		{"_ga", []string{analytics}, scanner.Analytics},
		{"_ga_BOK1", []string{analytics}, scanner.Analytics},
		{"IDE", []string{marketing}, scanner.Marketing},
		// The scanner's own consent cookie is released by nothing.
		{"crumb_consent", []string{analytics, marketing}, ""},
	} {
		it := find(t, rep, scanner.Cookie, tc.name)
		if !slices.Equal(it.SeenIn, tc.seenIn) || it.ReleasedBy != tc.released {
			t.Errorf("%s seen in %v released by %q, want %v and %q", tc.name, it.SeenIn, it.ReleasedBy, tc.seenIn, tc.released)
		}
	}
	// The cookie the scanner set granted necessary and the one category.
	var granted []string
	for _, v := range site.Consents() {
		parts := strings.Split(v, ".")
		if len(parts) != 5 {
			t.Fatalf("crumb_consent=%q", v)
		}
		if !slices.Contains(granted, parts[3]) {
			granted = append(granted, parts[3])
		}
	}
	if slices.Sort(granted); !slices.Equal(granted, []string{"analytics", "marketing"}) {
		t.Errorf("the shop saw consent cookies granting %v, want analytics alone and marketing alone", granted)
	}
	if n := site.Posts(); n != 0 {
		t.Errorf("%d consent decisions posted to the site's API, want none", n)
	}
	hosts := map[string][]string{}
	for _, h := range rep.ThirdPartyHosts {
		hosts[h.Host] = h.SeenIn
	}
	for host, modes := range map[string][]string{
		"www.googletagmanager.com":    {analytics},
		"ad.doubleclick.net":          {marketing},
		crawltest.BokhandelnPixelHost: o.Modes,
		"www.google-analytics.com":    {analytics},
	} {
		if !slices.Equal(hosts[host], modes) {
			t.Errorf("host %s seen in %v, want %v", host, hosts[host], modes)
		}
	}

	// Classified: the pixel host is a tracker contacted before consent,
	// the only finding; the released cookies are not findings.
	c, err := classify.New(classify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.ClassifyReport(rep)
	var findings []string
	for _, f := range classify.ActionItems(rep) {
		switch {
		case f.Host != nil:
			findings = append(findings, string(f.Problem)+" host "+f.Host.Host)
		case f.Item != nil:
			findings = append(findings, string(f.Problem)+" "+f.Item.Name)
		}
	}
	if want := []string{"pre-consent host " + crawltest.BokhandelnPixelHost}; !slices.Equal(findings, want) {
		t.Errorf("findings %q, want %q", findings, want)
	}
}

// TestScanGrantThroughCMP: on a site whose banner is a consent platform
// with an API that grants one category (the OneTrust double of
// www.exempel.se), a grant: mode grants it through that API. Facebook's
// pixel, loaded only once OneTrust's targeting group is granted, is then
// seen in grant:marketing alone and released by marketing; grant:analytics
// releases nothing, as nothing on the site waits for it.
func TestScanGrantThroughCMP(t *testing.T) {
	o := testOptions(t, "https://www.exempel.se/", serve(t, &crawltest.Exempel{}, crawltest.ExempelHosts))
	analytics, marketing := scanner.GrantMode(scanner.Analytics), scanner.GrantMode(scanner.Marketing)
	o.Modes = []string{scanner.ModeNone, analytics, marketing}
	o.MaxPages = 1
	rep, err := scan(t, context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Granted, []string{analytics, marketing}) {
		t.Fatalf("granted %v, want %v; notes %q", rep.Granted, []string{analytics, marketing}, rep.Notes)
	}
	if it := find(t, rep, scanner.Cookie, "_fbp"); !slices.Equal(it.SeenIn, []string{marketing}) || it.ReleasedBy != scanner.Marketing {
		t.Errorf("_fbp seen in %v released by %q, want [%s] and marketing", it.SeenIn, it.ReleasedBy, marketing)
	}
	for _, it := range rep.Items {
		if it.ReleasedBy == scanner.Analytics {
			t.Errorf("%s released by analytics; nothing on the site waits for it", it.Name)
		}
	}
	for _, want := range []string{
		analytics + ": granted through OneTrust's API: OneTrust.UpdateConsent('Category', 'C0002:1')",
		marketing + ": granted through OneTrust's API: OneTrust.UpdateConsent('Category', 'C0002:0'); OneTrust.UpdateConsent('Category', 'C0004:1')",
	} {
		if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.HasPrefix(n, want) }) {
			t.Errorf("no note starting %q in %q", want, rep.Notes)
		}
	}
}

// TestScanGrantWithoutCrumb: on a site with neither crumb's widget nor a
// consent platform grant.js knows, a grant: mode cannot grant one
// category; the report says so and attributes nothing to the category.
func TestScanGrantWithoutCrumb(t *testing.T) {
	o := testOptions(t, "https://www.butiken.se/", serve(t, crawltest.NewShop(11), crawltest.ShopHosts))
	o.Modes = []string{scanner.ModeNone, scanner.GrantMode(scanner.Analytics)}
	o.MaxPages = 1
	rep, err := scan(t, context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Granted) != 0 {
		t.Errorf("granted %v, want nothing", rep.Granted)
	}
	for _, it := range rep.Items {
		if it.ReleasedBy != "" {
			t.Errorf("%s released by %s", it.Name, it.ReleasedBy)
		}
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool {
		return strings.HasPrefix(n, `grant:analytics: no page ran crumb's widget, or a consent platform whose API grants one category`)
	}) {
		t.Errorf("notes %q do not say the category could not be granted", rep.Notes)
	}
}

// TestScanModesWithoutGrant: the none and accept-all modes are not grant:
// modes. A visit without consent on a site running crumb's widget sets no
// consent cookie, posts no decision and notes nothing about granting a
// category; accept-all grants every category and notes no category
// "accept-all" either.
func TestScanModesWithoutGrant(t *testing.T) {
	for _, tc := range []struct {
		mode     string
		consents *regexp.Regexp // the crumb_consent values the shop may see; nil: none at all
	}{
		{scanner.ModeNone, nil},
		{scanner.ModeAcceptAll, regexp.MustCompile(`^1\.[A-Za-z0-9_-]{16,64}\.3\.analytics\+marketing\.\d{10}$`)},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			site, err := crawltest.NewBokhandeln()
			if err != nil {
				t.Fatal(err)
			}
			o := testOptions(t, "https://www.bokhandeln.se/", serve(t, site, crawltest.BokhandelnHosts))
			o.Modes = []string{tc.mode}
			o.MaxPages = 2
			rep, err := scan(t, context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Pages) != 2 {
				t.Fatalf("%d pages visited, want 2: %+v", len(rep.Pages), rep.Pages)
			}
			if len(rep.Granted) != 0 {
				t.Errorf("granted %v, want nothing: %s is not a grant: mode", rep.Granted, tc.mode)
			}
			if n := site.Posts(); n != 0 {
				t.Errorf("%d consent decisions posted to the site's API, want none", n)
			}
			consents := site.Consents()
			for _, v := range consents {
				if tc.consents == nil || !tc.consents.MatchString(v) {
					t.Errorf("the shop was sent crumb_consent=%q in mode %s", v, tc.mode)
				}
			}
			if tc.consents != nil && len(consents) == 0 {
				t.Errorf("no page was requested with crumb_consent in mode %s", tc.mode)
			}
			for _, it := range rep.Items {
				if it.Name == "crumb_consent" && tc.consents == nil {
					t.Errorf("crumb_consent stored in mode %s: %+v", tc.mode, it)
				}
			}
			for _, n := range rep.Notes {
				if strings.Contains(n, scanner.ModeGrantPrefix) || strings.Contains(n, fmt.Sprintf("category %q", tc.mode)) ||
					strings.Contains(n, "could not be granted alone") {
					t.Errorf("note about granting a category in mode %s: %q", tc.mode, n)
				}
			}
		})
	}
}

// TestScanLateBanner: a banner that appears two seconds after the start
// page has settled (past the dwell) is still clicked on the start page in
// accept-all mode, so what it releases is placed there.
func TestScanLateBanner(t *testing.T) {
	const page = `<!doctype html><title>Sen</title><a href="/om">Om oss</a>
<script>
setTimeout(() => {
  const b = document.createElement('button')
  b.textContent = 'Godkänn alla'
  b.onclick = () => { document.cookie = 'sen_tracker=1; max-age=86400; path=/'; b.remove() }
  document.body.append(b)
}, 2000)
</script>`
	site := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/", "/om":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, page)
		default:
			http.NotFound(w, r)
		}
	})
	o := testOptions(t, "https://www.sen.se/", serve(t, site, []string{"www.sen.se"}))
	o.Modes = []string{scanner.ModeAcceptAll}
	o.MaxPages = 2
	rep, err := scan(t, context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	it := find(t, rep, scanner.Cookie, "sen_tracker")
	if it.FirstPage != "https://www.sen.se/" {
		t.Errorf("sen_tracker first seen on %s, want the start page", it.FirstPage)
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool {
		return strings.HasPrefix(n, `accept-all: clicked "godkänn alla"`) && strings.HasSuffix(n, "on https://www.sen.se/")
	}) {
		t.Errorf("notes %q do not say the banner was clicked on the start page", rep.Notes)
	}
}

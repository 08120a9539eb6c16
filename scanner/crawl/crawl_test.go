package crawl_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
	"github.com/crumbhq/crumb/scanner/crawl"
	"github.com/crumbhq/crumb/scanner/crawl/crawltest"
)

const day = 24 * time.Hour

// TestScanExempel scans a site with the usual tags in both consent modes
// and checks every item: found, attributed to the response or script that
// set it, timed, and placed before or after consent.
func TestScanExempel(t *testing.T) {
	site := &crawltest.Exempel{}
	o := testOptions(t, "https://www.exempel.se/", serve(t, site, crawltest.ExempelHosts))
	o.Modes = []string{scanner.ModeNone, scanner.ModeAcceptAll}
	o.RecycleAfter = 3
	var progress []string
	o.Progress = func(p crawl.Progress) { progress = append(progress, p.Mode+" "+p.Page.URL) }
	rep, err := scan(t, context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("pages", func(t *testing.T) {
		for _, mode := range rep.Modes {
			for _, want := range []struct {
				url, via string
				depth    int
			}{
				{"https://www.exempel.se/", "start", 0},
				{"https://www.exempel.se/produkter", "link", 1},  // utm_source dropped
				{"https://www.exempel.se/kontakt", "link", 1},    // fragment dropped
				{"https://www.exempel.se/a/b/c", "link", 3},      // only through /a and /a/b
				{"https://www.exempel.se/kampanj", "sitemap", 1}, // only in the sitemap index of robots.txt
				{"https://www.exempel.se/nyheter", "sitemap", 1}, // only in /sitemap.xml
			} {
				p := page(t, rep, mode, want.url)
				if p.Via != want.via || p.Depth != want.depth || p.Status != 200 || p.Error != "" {
					t.Errorf("%s %s: via=%s depth=%d status=%d error=%q, want via=%s depth=%d status=200",
						mode, want.url, p.Via, p.Depth, p.Status, p.Error, want.via, want.depth)
				}
			}
		}
		for _, p := range rep.Pages {
			if strings.HasSuffix(p.URL, ".pdf") || !strings.HasPrefix(p.URL, "https://www.exempel.se/") {
				t.Errorf("visited %s, which is not a page of the site", p.URL)
			}
		}
		if got, want := len(progress), len(rep.Pages); got != want {
			t.Errorf("progress reported %d pages, want %d", got, want)
		}
		// One visitor per mode keeps its PHP session across two browser
		// recycles.
		if got := site.Sessions(); got != 2 {
			t.Errorf("the site issued %d PHP sessions, want 2 (one per consent mode)", got)
		}
	})

	both := []string{scanner.ModeNone, scanner.ModeAcceptAll}
	after := []string{scanner.ModeAcceptAll}
	gtag := "https://www.googletagmanager.com/gtag/js?id=G-TEST123"
	for _, want := range []struct {
		kind      scanner.Kind
		name      string
		domain    string
		party     scanner.Party
		via       string
		setBy     string
		lifetime  time.Duration // 0: session
		requested time.Duration
		seenIn    []string
		firstPage string
		flags     string // h: HttpOnly, s: Secure, n: SameSite=None
	}{
		{scanner.Cookie, "PHPSESSID", "www.exempel.se", scanner.FirstParty, "http", "https://www.exempel.se/", 0, 0, both, "/", "hs"},
		{scanner.Cookie, "_ga", ".exempel.se", scanner.FirstParty, "script", gtag, 400 * day, 730 * day, both, "/", ""},
		{scanner.Cookie, "_ga_TEST123", ".exempel.se", scanner.FirstParty, "script", gtag, 400 * day, 730 * day, both, "/", ""},
		{scanner.Cookie, "_gcl_au", ".exempel.se", scanner.FirstParty, "script", "https://www.googletagmanager.com/gtm.js?id=GTM-TEST", 90 * day, 0, both, "/", ""},
		{scanner.Cookie, "IDE", ".doubleclick.net", scanner.ThirdParty, "http", "https://ad.doubleclick.net/ddm/activity/src=123;type=visit;cat=home", 390 * day, 0, both, "/", "hsn"},
		{scanner.Cookie, "VISITOR_INFO1_LIVE", ".youtube.com", scanner.ThirdParty, "http", "https://www.youtube.com/embed/dQw4w9WgXcQ", 180 * day, 0, both, "/", "hsn"},
		{scanner.Cookie, "YSC", ".youtube.com", scanner.ThirdParty, "http", "https://www.youtube.com/embed/dQw4w9WgXcQ", 0, 0, both, "/", "hsn"},
		{scanner.Cookie, "PREF", ".youtube.com", scanner.ThirdParty, "script", "https://www.youtube.com/s/player/base.js", 400 * day, 0, both, "/", "sn"},
		{scanner.Cookie, "ajs_anonymous_id", ".exempel.se", scanner.FirstParty, "script", "https://cdn.segment.com/analytics.js/v1/wk123/analytics.min.js", 365 * day, 0, both, "/", ""},
		{scanner.Cookie, "_hjSessionUser_3712345", ".exempel.se", scanner.FirstParty, "script", "https://static.hotjar.com/c/hotjar-3712345.js?sv=6", 365 * day, 0, both, "/", ""},
		{scanner.Cookie, "_hjSession_3712345", ".exempel.se", scanner.FirstParty, "script", "https://static.hotjar.com/c/hotjar-3712345.js?sv=6", 30 * time.Minute, 0, both, "/", "s"},
		{scanner.Cookie, "_clck", ".exempel.se", scanner.FirstParty, "script", "https://www.clarity.ms/tag/abc123", 365 * day, 0, both, "/a/b/c", ""},
		{scanner.Cookie, "_clsk", ".exempel.se", scanner.FirstParty, "script", "https://www.clarity.ms/tag/abc123", day, 0, both, "/a/b/c", ""},
		{scanner.Cookie, "_ttp", ".exempel.se", scanner.FirstParty, "script", "https://analytics.tiktok.com/i18n/pixel/events.js", 34164000 * time.Second, 0, both, "/kampanj", ""},
		{scanner.Cookie, "OptanonConsent", ".exempel.se", scanner.FirstParty, "script", "https://cdn.cookielaw.org/scripttemplates/otSDKStub.js", 365 * day, 0, after, "/", ""},
		{scanner.Cookie, "OptanonAlertBoxClosed", ".exempel.se", scanner.FirstParty, "script", "https://cdn.cookielaw.org/scripttemplates/otSDKStub.js", 365 * day, 0, after, "/", ""},
		{scanner.Cookie, "_fbp", ".exempel.se", scanner.FirstParty, "script", "https://connect.facebook.net/en_US/fbevents.js", 90 * day, 0, after, "/", ""},
		{scanner.Cookie, "fr", ".facebook.com", scanner.ThirdParty, "http", "https://www.facebook.com/tr?id=1234567890&ev=PageView", 90 * day, 0, after, "/", "hsn"},
		{scanner.LocalStorage, "ajs_anonymous_id", "www.exempel.se", scanner.FirstParty, "script", "https://cdn.segment.com/analytics.js/v1/wk123/analytics.min.js", 0, 0, both, "/", ""},
		{scanner.LocalStorage, "ajs_user_traits", "www.exempel.se", scanner.FirstParty, "script", "https://cdn.segment.com/analytics.js/v1/wk123/analytics.min.js", 0, 0, both, "/", ""},
		{scanner.SessionStorage, "_hjRecordingLastActivity", "www.exempel.se", scanner.FirstParty, "script", "https://static.hotjar.com/c/hotjar-3712345.js?sv=6", 0, 0, both, "/", ""},
		{scanner.LocalStorage, "yt-remote-device-id", "www.youtube.com", scanner.ThirdParty, "script", "https://www.youtube.com/s/player/base.js", 0, 0, both, "/", ""},
		{scanner.IndexedDB, "YtIdbMeta", "www.youtube.com", scanner.ThirdParty, "script", "https://www.youtube.com/s/player/base.js", 0, 0, both, "/", ""},
	} {
		t.Run(string(want.kind)+"/"+want.name, func(t *testing.T) {
			it := find(t, rep, want.kind, want.name)
			if it.Domain != want.domain || it.Party != want.party {
				t.Errorf("domain=%s party=%s, want %s %s", it.Domain, it.Party, want.domain, want.party)
			}
			if it.SetVia != want.via || it.SetBy != want.setBy {
				t.Errorf("set via %s by %q, want via %s by %q", it.SetVia, it.SetBy, want.via, want.setBy)
			}
			if !slices.Equal(it.SeenIn, want.seenIn) {
				t.Errorf("seen in %v, want %v", it.SeenIn, want.seenIn)
			}
			if it.FirstPage != "https://www.exempel.se"+want.firstPage {
				t.Errorf("first page %s, want %s", it.FirstPage, want.firstPage)
			}
			if it.Kind != scanner.Cookie {
				if it.Origin != "https://"+want.domain {
					t.Errorf("origin %s, want https://%s", it.Origin, want.domain)
				}
				return
			}
			if want.lifetime == 0 {
				if !it.Session || !it.Expires.IsZero() {
					t.Errorf("session=%v expires=%v, want a session cookie", it.Session, it.Expires)
				}
			} else if it.Session || !near(time.Duration(it.Lifetime), want.lifetime) {
				t.Errorf("session=%v lifetime=%s, want a persistent cookie of %s", it.Session, time.Duration(it.Lifetime), want.lifetime)
			}
			if !near(time.Duration(it.RequestedLifetime), want.requested) {
				t.Errorf("requested lifetime %s, want %s", time.Duration(it.RequestedLifetime), want.requested)
			}
			flags := ""
			if it.HTTPOnly {
				flags += "h"
			}
			if it.Secure {
				flags += "s"
			}
			if it.SameSite == "None" {
				flags += "n"
			}
			if flags != want.flags {
				t.Errorf("flags %q (HttpOnly, Secure, SameSite=None), want %q", flags, want.flags)
			}
			if it.ValueLen == 0 || it.Size < len(it.Name)+it.ValueLen {
				t.Errorf("value length %d, size %d", it.ValueLen, it.Size)
			}
		})
	}

	t.Run("pages seen", func(t *testing.T) {
		if it := find(t, rep, scanner.Cookie, "_ga_TEST123"); len(it.Pages) < 9 {
			t.Errorf("_ga_TEST123 rewritten on %d pages, want every page: %v", len(it.Pages), it.Pages)
		}
		if it := find(t, rep, scanner.Cookie, "PHPSESSID"); len(it.Pages) != 1 {
			t.Errorf("PHPSESSID set on pages %v, want only the start page", it.Pages)
		}
	})

	t.Run("blocked cookies", func(t *testing.T) {
		if len(rep.BlockedCookies) != 1 || rep.BlockedCookies[0].Name != "test_cookie" || len(rep.BlockedCookies[0].Reasons) == 0 {
			t.Fatalf("blocked cookies %+v, want DoubleClick's test_cookie with its reason", rep.BlockedCookies)
		}
	})

	t.Run("third-party hosts", func(t *testing.T) {
		seen := map[string][]string{}
		for _, h := range rep.ThirdPartyHosts {
			seen[h.Host] = h.SeenIn
		}
		for host, modes := range map[string][]string{
			"www.googletagmanager.com": both, "www.google-analytics.com": both, "ad.doubleclick.net": both,
			"www.youtube.com": both, "cdn.cookielaw.org": both, "cdn.segment.com": both, "static.hotjar.com": both,
			"www.clarity.ms": both, "analytics.tiktok.com": both, "connect.facebook.net": after, "www.facebook.com": after,
		} {
			if !slices.Equal(seen[host], modes) {
				t.Errorf("host %s seen in %v, want %v", host, seen[host], modes)
			}
		}
		if _, ok := seen["www.exempel.se"]; ok || len(seen) != 11 {
			t.Errorf("third-party hosts %v", seen)
		}
	})

	t.Run("no values", func(t *testing.T) {
		b, _ := json.Marshal(rep)
		for _, v := range []string{"AHWqTUm-test", "s00000001", "Xq1ZtESTv", "aBcDeFgH", "CheckForPermission", "0testFr"} {
			if strings.Contains(string(b), v) {
				t.Errorf("the report holds the cookie value %q", v)
			}
		}
	})

	// Every item of the fixture is a real vendor's, which the classifier
	// knows by name or by the domain it lives on.
	t.Run("classified", func(t *testing.T) {
		c, err := classify.New(classify.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c.ClassifyReport(rep)
		want := map[string]scanner.Category{
			"PHPSESSID": scanner.Necessary, "OptanonConsent": scanner.Necessary, "OptanonAlertBoxClosed": scanner.Necessary,
			"_ga": scanner.Analytics, "_ga_TEST123": scanner.Analytics, "ajs_anonymous_id": scanner.Analytics, "ajs_user_traits": scanner.Analytics,
			"_hjSessionUser_3712345": scanner.Analytics, "_hjSession_3712345": scanner.Analytics, "_hjRecordingLastActivity": scanner.Analytics,
			"_clck": scanner.Analytics, "_clsk": scanner.Analytics,
			"_gcl_au": scanner.Marketing, "IDE": scanner.Marketing, "VISITOR_INFO1_LIVE": scanner.Marketing, "YSC": scanner.Marketing,
			"PREF": scanner.Marketing, "yt-remote-device-id": scanner.Marketing, "YtIdbMeta": scanner.Marketing,
			"_ttp": scanner.Marketing, "_fbp": scanner.Marketing, "fr": scanner.Marketing,
		}
		for _, it := range rep.Items {
			got := it.Classification
			if got == nil || got.Category != want[it.Name] || got.Provider == "" || got.Reason == "" {
				t.Errorf("%s %s classified %+v, want %s", it.Kind, it.Name, got, want[it.Name])
			}
		}
	})

	t.Run("notes", func(t *testing.T) {
		if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, `clicked "acceptera alla"`) }) {
			t.Errorf("notes %q do not say which accept button was clicked", rep.Notes)
		}
	})
}

// near reports whether a lifetime is within a minute of want.
func near(got, want time.Duration) bool {
	d := got - want
	return d > -time.Minute && d < time.Minute
}

// TestScanLimits: the page, depth and time limits stop a crawl, and the
// report says what was left.
func TestScanLimits(t *testing.T) {
	flags := serve(t, &crawltest.Exempel{}, crawltest.ExempelHosts)
	for _, tc := range []struct {
		name  string
		set   func(*crawl.Options)
		pages int
		note  string
	}{
		{"pages", func(o *crawl.Options) { o.MaxPages = 3 }, 3, "none: page limit of 3 reached"},
		{"time", func(o *crawl.Options) { o.MaxDuration = time.Millisecond }, 1, "none: time limit of 1ms reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t, "https://www.exempel.se/", flags)
			o.MaxDepth = 1
			tc.set(&o)
			rep, err := scan(t, context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Pages) != tc.pages {
				t.Errorf("%d pages, want %d", len(rep.Pages), tc.pages)
			}
			for _, p := range rep.Pages {
				if p.Depth > 1 {
					t.Errorf("visited %s at depth %d, past the limit", p.URL, p.Depth)
				}
			}
			if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.HasPrefix(n, tc.note) }) {
				t.Errorf("notes %q, want one starting %q", rep.Notes, tc.note)
			}
		})
	}
}

package crawl

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
)

func TestNormalize(t *testing.T) {
	base, _ := url.Parse("https://www.exempel.se/a/b?x=1")
	for _, tc := range []struct{ in, want string }{
		{"c", "https://www.exempel.se/a/c"},
		{"/", "https://www.exempel.se/"},
		{"HTTPS://WWW.Exempel.SE:443", "https://www.exempel.se/"},
		{"http://www.exempel.se:80/x#top", "http://www.exempel.se/x"},
		{"https://www.exempel.se:8443/x", "https://www.exempel.se:8443/x"},
		{"/p?utm_source=nl&utm_medium=mail&b=2&a=1&gclid=z&fbclid=y", "https://www.exempel.se/p?a=1&b=2"},
		{"//cdn.exempel.se/p", "https://cdn.exempel.se/p"},
		{"https://user:pw@www.exempel.se/", "https://www.exempel.se/"},
		{"mailto:info@exempel.se", ""},
		{"javascript:void(0)", ""},
		{"tel:+4681234", ""},
	} {
		got, ok := normalize(tc.in, base)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("normalize(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

func TestFrontier(t *testing.T) {
	f := newFrontier("exempel.se", 2)
	base, _ := url.Parse("https://www.exempel.se/")
	for _, tc := range []struct {
		ref   string
		depth int
		want  bool
	}{
		{"/", 0, true},
		{"/#top", 1, false},                    // the same page
		{"https://shop.exempel.se/", 1, true},  // a subdomain is on the site
		{"https://www.example.com/", 1, false}, // another site
		{"https://exempel.se.evil.com/", 1, false},
		{"/rapport.pdf", 1, false},
		{"/bild.JPG", 1, false},
		{"/djup", 3, false}, // past the depth limit
		{"/b", 2, true},
		{"/a", 1, true},
	} {
		if got := f.add(tc.ref, base, "link", tc.depth); got != tc.want {
			t.Errorf("add(%q, depth %d) = %v, want %v", tc.ref, tc.depth, got, tc.want)
		}
	}
	var order []string
	for v, ok := f.next(); ok; v, ok = f.next() {
		order = append(order, v.URL)
	}
	want := []string{"https://www.exempel.se/", "https://shop.exempel.se/", "https://www.exempel.se/a", "https://www.exempel.se/b"}
	if !slices.Equal(order, want) {
		t.Errorf("visit order %v, want lowest depth first %v", order, want)
	}
}

func TestRegistrable(t *testing.T) {
	for in, want := range map[string]string{
		"www.exempel.se": "exempel.se", ".doubleclick.net": "doubleclick.net", "a.b.example.co.uk": "example.co.uk",
		"127.0.0.1": "127.0.0.1", "localhost": "localhost", "WWW.Exempel.SE.": "exempel.se",
	} {
		if got := registrable(in); got != want {
			t.Errorf("registrable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRobotsSitemaps(t *testing.T) {
	got := robotsSitemaps("User-agent: *\nDisallow: /admin\n# Sitemap: https://x/commented\nsitemap:https://www.exempel.se/a.xml\n  SITEMAP: https://www.exempel.se/b.xml # main\nSitemap:\n")
	want := []string{"https://www.exempel.se/a.xml", "https://www.exempel.se/b.xml"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestParseSitemap(t *testing.T) {
	pages, maps, err := parseSitemap(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc> https://www.exempel.se/a </loc><lastmod>2026-01-01</lastmod></url><url><loc>https://www.exempel.se/b</loc></url></urlset>`)
	if err != nil || !slices.Equal(pages, []string{"https://www.exempel.se/a", "https://www.exempel.se/b"}) || maps != nil {
		t.Errorf("urlset: %v %v %v", pages, maps, err)
	}
	pages, maps, err = parseSitemap(`<sitemapindex><sitemap><loc>https://www.exempel.se/s1.xml</loc></sitemap></sitemapindex>`)
	if err != nil || pages != nil || !slices.Equal(maps, []string{"https://www.exempel.se/s1.xml"}) {
		t.Errorf("index: %v %v %v", pages, maps, err)
	}
	for _, bad := range []string{"<html><body>Not found</body></html>", "not xml at all", "<urlset><url>"} {
		if _, _, err := parseSitemap(bad); err == nil {
			t.Errorf("parseSitemap(%q) accepted", bad)
		}
	}
}

func TestParseCookieWrite(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		line, host string
		want       cookieWrite
	}{
		{"PHPSESSID=abc123; path=/; HttpOnly", "www.exempel.se",
			cookieWrite{name: "PHPSESSID", valueLen: 6, host: "www.exempel.se"}},
		{"_ga=GA1.1.1.2; Max-Age=63072000; Domain=.Exempel.se; Path=/", "www.exempel.se",
			cookieWrite{name: "_ga", valueLen: 9, domain: "exempel.se", host: "www.exempel.se", requested: 730 * 24 * time.Hour}},
		{"IDE=x; expires=Wed, 23 Dec 2026 12:00:00 GMT; domain=doubleclick.net", "ad.doubleclick.net",
			cookieWrite{name: "IDE", valueLen: 1, domain: "doubleclick.net", host: "ad.doubleclick.net", requested: 30 * 24 * time.Hour}},
		{"old=; Max-Age=0", "www.exempel.se", cookieWrite{name: "old", host: "www.exempel.se", deletes: true}},
		{"gone=1; expires=Thu, 01 Jan 1970 00:00:00 GMT", "www.exempel.se", cookieWrite{name: "gone", valueLen: 1, host: "www.exempel.se", deletes: true}},
		{"novalue", "www.exempel.se", cookieWrite{valueLen: 7, host: "www.exempel.se"}},
	} {
		got, ok := parseCookieWrite(tc.line, tc.host, at)
		tc.want.at = at
		if !ok || got != tc.want {
			t.Errorf("parseCookieWrite(%q) = %+v, %v; want %+v", tc.line, got, ok, tc.want)
		}
	}
	if _, ok := parseCookieWrite("", "h", at); ok {
		t.Error("an empty line parsed")
	}
	w, _ := parseCookieWrite("_ga=1; Domain=.exempel.se", "www.exempel.se", at)
	for _, tc := range []struct {
		domain string
		want   bool
	}{{".exempel.se", true}, {"exempel.se", true}, {"www.exempel.se", false}, {".other.se", false}} {
		if got := w.matches(&network.Cookie{Name: "_ga", Domain: tc.domain}); got != tc.want {
			t.Errorf("a write for .exempel.se matches a cookie on %s: %v, want %v", tc.domain, got, tc.want)
		}
	}
}

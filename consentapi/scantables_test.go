package consentapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/crumbhq/crumb/scanner"
)

// TestBannerRowsWithoutPurpose: a scanned row without a purpose says in
// the banner's settings tables, in every language of the banner, what the
// declaration says for it ("Syftet är ännu inte fastställt."), not a blank
// cell; a purpose the scan has stays.
func TestBannerRowsWithoutPurpose(t *testing.T) {
	e := newEnv(t)
	yt := scanItem("yt-remote-device-id", scanner.Marketing, "YouTube")
	yt.Kind, yt.Domain, yt.Party = scanner.LocalStorage, "www.youtube-nocookie.com", scanner.ThirdParty
	yt.Classification.Purpose = nil
	half := scanItem("half", scanner.Marketing, "Meta")
	half.Classification.Purpose = map[string]string{"en": "Measures ads."}
	putScan(t, e.store, "shop@1", time.Now(), "", yt, half)
	if err := e.srv.Refresh(context.Background(), "shop"); err != nil {
		t.Fatal(err)
	}
	b, _ := e.srv.Banner("shop")
	got := map[string]map[string]string{}
	for _, c := range b.Categories {
		for _, k := range c.Cookies {
			got[k.Name] = k.Purpose
		}
	}
	want := map[string]map[string]string{
		"yt-remote-device-id": {"sv": "Syftet är ännu inte fastställt.", "en": "Purpose not yet established."},
		"half":                {"sv": "Syftet är ännu inte fastställt.", "en": "Measures ads."},
	}
	for name, w := range want {
		for lang, text := range w {
			if got[name][lang] != text {
				t.Errorf("%s purpose[%s] = %q, want %q", name, lang, got[name][lang], text)
			}
		}
	}
}

// TestConfiguredRowListedOnce: a cookie the configuration lists under one
// category and the scan finds under another is listed once, where the
// configuration puts it, in the declaration and in the banner; what the
// scan saw of it (set before consent, its lifetime) stays with it.
func TestConfiguredRowListedOnce(t *testing.T) {
	e := newEnv(t, func(o *consentapi.Options) {
		s, _ := o.Sites.Site("shop")
		ga := s.Categories[1].Cookies[0]
		ga.Provider, ga.Party = "Shop AB", "first"
		s.Categories[1].Cookies = nil
		s.Categories[0].Cookies = append(s.Categories[0].Cookies, ga)
		s.Categories[1].Cookies = []siteconfig.Cookie{{Name: "_ga_*", Provider: "Google Analytics", Party: "shared",
			Purpose: map[string]string{"sv": "Sessionen", "en": "The session"}, Expiry: map[string]string{"sv": "2 år"}}}
	})
	ga := scanItem("_ga", scanner.Analytics, "Google Analytics")
	ga4 := scanItem("_ga_NK1", scanner.Analytics, "Google Analytics")
	ga4.SeenIn = []string{scanner.ModeNone, scanner.ModeAcceptAll}
	ga4.Session, ga4.Lifetime = false, scanner.Duration(400*24*time.Hour)
	hj := scanItem("_hjid", scanner.Analytics, "Hotjar")
	putScan(t, e.store, "shop@1", time.Now(), "", ga, ga4, hj)
	if err := e.srv.Refresh(context.Background(), "shop"); err != nil {
		t.Fatal(err)
	}
	body := e.do(t, request{method: "GET", path: "/v1/sites/shop/declaration?format=md&lang=en"}).Body.String()
	necessary, analytics, ok := strings.Cut(body, "### Statistics")
	if !ok || !strings.Contains(necessary, "### Necessary") || strings.Count(body, "| `_ga` |") != 1 || !strings.Contains(necessary, "| `_ga` | Shop AB | Counts visits |") || !strings.Contains(analytics, "| `_hjid` |") {
		t.Fatalf("declaration:\n%s\nwant _ga once, under Necessary as configured, and _hjid under Statistics", body)
	}
	for _, w := range []string{
		"| `_ga_*` | Google Analytics | The session | 13 months |", // the configuration has no English lifetime: the scan's
		"set before any consent was given, which is an error to be fixed: \\_ga\\_\\*.",
	} {
		if !strings.Contains(analytics, w) {
			t.Errorf("declaration: missing %q in:\n%s", w, analytics)
		}
	}
	b, _ := e.srv.Banner("shop")
	var where []string
	for _, c := range b.Categories {
		for _, k := range c.Cookies {
			if k.Name == "_ga" {
				where = append(where, c.ID)
			}
		}
	}
	if strings.Join(where, ",") != "necessary" {
		t.Errorf("banner lists _ga under %v, want necessary only", where)
	}
}

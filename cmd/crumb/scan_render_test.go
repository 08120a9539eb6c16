package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/scanner"
)

// TestRenderAcceptAllOnly: a scan that visited the site in accept-all
// alone cannot tell what came before consent, and the human formats do
// not claim that an item came after consent only; a host contacted once
// is counted as one request.
func TestRenderAcceptAllOnly(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	rep := &scanner.Report{
		SchemaVersion: scanner.SchemaVersion, Site: "https://www.exempel.se/", SiteDomain: "exempel.se",
		StartedAt: start, FinishedAt: start.Add(time.Minute), Modes: []string{scanner.ModeAcceptAll},
		Items: []scanner.Item{{Kind: scanner.Cookie, Name: "_ga", Domain: ".exempel.se", Party: scanner.FirstParty,
			SeenIn: []string{scanner.ModeAcceptAll}, Classification: &scanner.Classification{Category: scanner.Analytics}}},
		ThirdPartyHosts: []scanner.Host{{Host: "cdn.example.net", Requests: 1, SeenIn: []string{scanner.ModeAcceptAll}}},
	}
	for _, format := range []string{"table", "md"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := renderReport(&b, rep, format, "sv", ""); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if strings.Contains(out, "after consent only") {
				t.Errorf("claims an item came after consent only, with no visit without consent:\n%s", out)
			}
			if !strings.Contains(out, "not checked (no visit without consent)") {
				t.Errorf("does not say the consent status was not checked:\n%s", out)
			}
			if !strings.Contains(out, "cdn.example.net (1 request, accept-all)") {
				t.Errorf("host line not \"cdn.example.net (1 request, accept-all)\":\n%s", out)
			}
		})
	}
}

// TestDeclarationController: -controller names the site's owner as the
// provider of its own items in a declaration, and items a category needing
// consent had before any consent are warned about on standard error.
func TestDeclarationController(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	rep := &scanner.Report{
		SchemaVersion: scanner.SchemaVersion, Site: "https://www.exempel.se/", SiteDomain: "exempel.se",
		StartedAt: start, FinishedAt: start.Add(time.Minute), Modes: []string{scanner.ModeNone, scanner.ModeAcceptAll},
		Items: []scanner.Item{
			{Kind: scanner.Cookie, Name: "nk_recent_products", Domain: "www.exempel.se", Party: scanner.FirstParty,
				SeenIn: []string{scanner.ModeAcceptAll}, Classification: &scanner.Classification{Category: scanner.Necessary}},
			{Kind: scanner.Cookie, Name: "_hjSession_1", Domain: ".exempel.se", Party: scanner.FirstParty,
				SeenIn: []string{scanner.ModeNone, scanner.ModeAcceptAll}, Classification: &scanner.Classification{Category: scanner.Analytics}},
		},
	}
	var out, errs bytes.Buffer
	if err := writeScanOutput(&out, &errs, "", rep, "declaration-md", "sv", "Norrsken Kaffe AB"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| `nk_recent_products` | Norrsken Kaffe AB |") {
		t.Errorf("the site's own cookie is not declared as the controller's:\n%s", out.String())
	}
	if !strings.Contains(errs.String(), "analytics: set before consent: _hjSession_1") {
		t.Errorf("stderr %q: want a warning naming _hjSession_1 as set before consent", errs.String())
	}
}

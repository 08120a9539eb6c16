package crawl_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/crawl"
	"github.com/crumbhq/crumb/scanner/crawl/crawltest"
)

// TestHostilePages visits a page of each kind that stalls crawlers. Each
// must end within the page timeout with its error recorded, and the scan
// must go on to the ordinary page after them.
func TestHostilePages(t *testing.T) {
	site := crawltest.NewHostile()
	t.Cleanup(site.Close)
	o := testOptions(t, "https://www.testbutik.se/", serve(t, site, crawltest.HostileHosts))
	o.PageTimeout = 5 * time.Second
	o.RecycleAfter = 4
	began := time.Now()
	rep, err := scan(t, context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Pages {
		t.Logf("%-45s %3d %6s %s", p.URL, p.Status, time.Duration(p.Duration), p.Error)
	}
	t.Logf("scan took %s", time.Since(began))
	for _, want := range []struct{ path, err string }{
		{"/silent", "no response"},
		{"/never-loads", "did not finish loading"},
		{"/stalls", "did not finish loading"},
		{"/alert-loop", "kept opening dialogs"},
		{"/crash", "renderer crashed"},
		{"/redirect-loop", "ERR_TOO_MANY_REDIRECTS"},
		{"/download", "a download, not a web page"},
		{"/leaves", "redirected off the site to https://www.example.com/"},
		{"/many-links", ""},
		{"/ok", ""},
	} {
		p := page(t, rep, scanner.ModeNone, "https://www.testbutik.se"+want.path)
		if want.err == "" && p.Error != "" || !strings.Contains(p.Error, want.err) {
			t.Errorf("%s: error %q, want %q", want.path, p.Error, want.err)
		}
		// Opening and closing the tab come on top of the page timeout.
		if d := time.Duration(p.Duration); d > o.PageTimeout+5*time.Second {
			t.Errorf("%s took %s, past the page timeout of %s", want.path, d, o.PageTimeout)
		}
	}
	for _, p := range rep.Pages {
		if strings.HasSuffix(p.URL, ".pdf") || strings.Contains(p.URL, "example.com") {
			t.Errorf("visited %s", p.URL)
		}
	}
	for _, it := range rep.Items {
		if it.Name == "elsewhere" {
			t.Errorf("the off-site page's cookie %+v is in the report", it)
		}
	}
	// The page after the hostile ones was still scanned.
	if it := find(t, rep, scanner.LocalStorage, "ajs_anonymous_id"); it.FirstPage != "https://www.testbutik.se/ok" {
		t.Errorf("ajs_anonymous_id first seen on %s, want /ok", it.FirstPage)
	}
}

// TestScanInterrupted cancels a scan as Ctrl-C does: Scan returns at once
// with what it has, and no Chromium process is left.
func TestScanInterrupted(t *testing.T) {
	site := &crawltest.Exempel{}
	o := testOptions(t, "https://www.exempel.se/", serve(t, site, crawltest.ExempelHosts))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.Progress = func(crawl.Progress) { cancel() }
	rep, err := scan(t, ctx, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if rep == nil || len(rep.Pages) == 0 || len(rep.Pages) > 1+o.Concurrency {
		t.Fatalf("report %+v, want the pages visited before the interruption", rep)
	}
}

// TestIgnoreTLSErrors: a certificate Chromium does not trust fails the
// start page, unless the scan is told to accept any certificate.
func TestIgnoreTLSErrors(t *testing.T) {
	site := crawltest.NewHostile()
	t.Cleanup(site.Close)
	flags := serve(t, site, crawltest.HostileHosts)
	for _, insecure := range []bool{false, true} {
		o := testOptions(t, "https://www.testbutik.se/ok", flags[:1]) // the host rules, not the key pin
		o.IgnoreTLSErrors = insecure
		o.MaxPages = 1
		rep, err := scan(t, context.Background(), o)
		if insecure {
			if err != nil || rep.Pages[0].Status != 200 {
				t.Errorf("insecure: %v, pages %+v", err, rep.Pages)
			}
			continue
		}
		if !errors.Is(err, crawl.ErrStartPage) || !strings.Contains(rep.Pages[0].Error, "ERR_CERT_AUTHORITY_INVALID") {
			t.Errorf("secure: %v, pages %+v", err, rep.Pages)
		}
	}
}

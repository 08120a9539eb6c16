package crawl_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/browsertest"
	"github.com/crumbhq/crumb/scanner/crawl"
	"github.com/crumbhq/crumb/scanner/crawl/crawltest"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

// serve starts the fixture h for hosts and returns the Chromium flags that
// reach it.
func serve(t *testing.T, h http.Handler, hosts []string) []string {
	t.Helper()
	srv, err := crawltest.Start(h, hosts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv.Flags
}

// testOptions are tight limits for a machine with two cores.
func testOptions(t *testing.T, url string, flags []string) crawl.Options {
	t.Helper()
	path, err := browsertest.ExecPath()
	if err != nil {
		t.Fatal(err)
	}
	return crawl.Options{
		URL:           url,
		ChromiumPath:  path,
		ChromiumFlags: flags,
		PageTimeout:   8 * time.Second,
		Dwell:         300 * time.Millisecond,
		Concurrency:   2,
		MaxHeapMB:     256,
		TempDir:       t.TempDir(),
		Logger:        slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
}

// scan runs a scan and checks that it left no Chromium process and no
// profile behind.
func scan(t *testing.T, ctx context.Context, o crawl.Options) (*scanner.Report, error) {
	t.Helper()
	rep, err := crawl.Scan(ctx, o)
	if left := browsertest.Processes(o.TempDir); len(left) > 0 {
		t.Errorf("%d Chromium processes left running after the scan: %v", len(left), left)
	}
	if entries, _ := os.ReadDir(o.TempDir); len(entries) > 0 {
		t.Errorf("profile directories left behind: %v", entries)
	}
	return rep, err
}

// find returns the item of kind named name, failing the test if there is
// none.
func find(t *testing.T, rep *scanner.Report, kind scanner.Kind, name string) scanner.Item {
	t.Helper()
	for _, it := range rep.Items {
		if it.Kind == kind && it.Name == name {
			return it
		}
	}
	t.Fatalf("no %s %q in the report; items: %v", kind, name, names(rep))
	return scanner.Item{}
}

func names(rep *scanner.Report) []string {
	var out []string
	for _, it := range rep.Items {
		out = append(out, string(it.Kind)+":"+it.Name+"@"+it.Domain)
	}
	return out
}

// page returns the report's page for url in mode.
func page(t *testing.T, rep *scanner.Report, mode, url string) scanner.Page {
	t.Helper()
	for _, p := range rep.Pages {
		if p.Mode == mode && p.URL == url {
			return p
		}
	}
	t.Fatalf("page %s (%s) was not visited; pages: %+v", url, mode, rep.Pages)
	return scanner.Page{}
}

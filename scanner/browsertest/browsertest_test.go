package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/crumbhq/crumb/scanner/browsertest"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

func TestTabsAreIsolated(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>t</title><p>hello</p>`)
	}))
	defer srv.Close()

	first := browsertest.Tab(t)
	if err := chromedp.Do(first, chromedp.Navigate(srv.URL),
		chromedp.Evaluate[chromedp.Void](`document.cookie = "seen=1; path=/"`)); err != nil {
		t.Fatal(err)
	}
	second := browsertest.Tab(t)
	if err := chromedp.Do(second, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(second, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	if got != "" {
		t.Fatalf("second tab sees cookies %q of the first; tabs must not share a jar", got)
	}
	title, err := chromedp.Run(first, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title != "t" {
		t.Fatalf("title=%q, want t", title)
	}
}

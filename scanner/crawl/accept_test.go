package crawl_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/crumbhq/crumb/scanner"
)

// TestScanAcceptAllWithoutBanner: an accept-all visit that finds nothing
// to accept says so in a note, so that a report does not pass off a visit
// without consent as one with consent; one that clicks a banner does not.
func TestScanAcceptAllWithoutBanner(t *testing.T) {
	const noteStart = "accept-all: found no consent banner to accept"
	for _, tc := range []struct {
		name, body string
		wantNote   bool
	}{
		{"no banner", `<p>Välkommen</p><script>document.cookie = 'spar=1; max-age=86400; path=/'</script>`, true},
		{"banner", `<button onclick="document.cookie = 'spar=1; max-age=86400; path=/'; this.remove()">Acceptera alla</button>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/" {
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, "<!doctype html><title>Utan</title>%s", tc.body)
			})
			o := testOptions(t, "https://www.utan.se/", serve(t, site, []string{"www.utan.se"}))
			o.Modes = []string{scanner.ModeAcceptAll}
			o.MaxPages = 1
			rep, err := scan(t, context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			find(t, rep, scanner.Cookie, "spar")
			got := slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.HasPrefix(n, noteStart) })
			if got != tc.wantNote {
				t.Errorf("note %q present: %v, want %v; notes: %q", noteStart, got, tc.wantNote, rep.Notes)
			}
		})
	}
}

package widget_test

import (
	"slices"
	"testing"
	"time"

	"github.com/crumbhq/crumb/scanner/browsertest"
	"github.com/crumbhq/crumb/widget"
)

// TestImpressionSwitch checks the site's count_impressions (R1): counted,
// every display of the banner posts one impression, without the page's
// cookies, and nothing else before a choice; switched off, the banner makes
// no request at all before a choice. Either way nothing is stored, and a
// decided visitor sends none.
func TestImpressionSwitch(t *testing.T) {
	tests := []struct {
		name          string
		noImpressions bool
		want          int // impressions for two page views with the banner
	}{
		{"counted (default)", false, 2},
		{"switched off", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newTestSite(t, mustBuild(t), testConfig())
			site.set(func(cfg *widget.Config) { cfg.NoImpressions = tt.noImpressions })
			ctx := browsertest.Tab(t)
			// The site's own session cookie, which an impression must not carry.
			beforeLoad(t, ctx, `document.cookie = 'SESSIONID=abc123; Path=/'`)
			for i := range 2 {
				open(t, ctx, site.url("/index.html"))
				waitJS(t, ctx, in(".b"))
				if tt.want > 0 {
					site.waitFor("an impression", func() bool { return site.impressionCount() > i })
				}
				time.Sleep(300 * time.Millisecond)
				// What the page itself saw leave: only the impression, if any.
				sent := eval[[]string](t, ctx, `performance.getEntriesByType('resource').filter(e => ['fetch', 'xmlhttprequest', 'beacon'].includes(e.initiatorType)).map(e => new URL(e.name).pathname)`)
				if want := tt.want / 2; len(sent) != want || want == 1 && sent[0] != "/v1/sites/test/impressions" {
					t.Errorf("page view %d sent %v before a choice, want %d impression", i+1, sent, want)
				}
			}
			if got := site.impressionCount(); got != tt.want {
				t.Errorf("%d impressions for 2 banner displays, want %d", got, tt.want)
			}
			site.mu.Lock()
			for _, imp := range site.impressions {
				if imp.Revision != 1 || imp.Language != "en" || imp.cookie != "" {
					t.Errorf("impression %+v, want revision 1, language en and no cookie", imp)
				}
			}
			site.mu.Unlock()
			if got := names(cookies(t, ctx, site)); !slices.Equal(got, []string{"SESSIONID"}) {
				t.Errorf("cookies before a choice: %v, want only the site's own", got)
			}
			if n := eval[int](t, ctx, `localStorage.length + sessionStorage.length`); n != 0 {
				t.Errorf("%d storage items before a choice", n)
			}

			// After a choice the banner is not shown: no impression.
			click(t, ctx, in(".bs .r"))
			site.waitRecorded(1)
			open(t, ctx, site.url("/index.html"))
			waitJS(t, ctx, in(".i"))
			time.Sleep(300 * time.Millisecond)
			if got := site.impressionCount(); got != tt.want {
				t.Errorf("%d impressions after a choice, want still %d", got, tt.want)
			}
		})
	}
}

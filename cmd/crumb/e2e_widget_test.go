package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/scanner/browsertest"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

// TestWidgetOnRealServer runs `crumb serve` on a real redis-server and
// drives its demo page in Chromium: Reject all is stored as reject_all, the
// server sets the consent cookie on the site's own origin, a withdrawal is
// stored as withdraw and deletes the withdrawn cookies, and a raised
// revision asks again.
func TestWidgetOnRealServer(t *testing.T) {
	rs := redistest.Start(t)
	environ := map[string]string{"CRUMB_REDIS_URL": rs.URL(), "CRUMB_ADMIN_TOKEN": "e2e-admin-token-01"}
	s := startServe(t, environ)
	rc := redis.NewClient(&redis.Options{Network: rs.Network(), Addr: rs.Addr()})
	defer rc.Close()
	ctx := browsertest.Tab(t)
	setCookies := watchSetCookies(t, ctx)

	open(t, ctx, s.base+"/")
	waitJS(t, ctx, shadow(".b"))
	if got := evalJS[string](t, ctx, shadow("#ct")+".textContent"); got != "Exempel AB använder kakor" {
		t.Errorf("demo banner title = %q", got)
	}
	screenshotTo(t, ctx, "demo-1280")
	clickJS(t, ctx, shadow(".bs .r"))

	// Reject all is in the store as reject_all, under the id the cookie has.
	waitJS(t, ctx, `/crumb_consent=1\.[\w-]{8,}\.1\.-\./.test(document.cookie)`)
	id := regexp.MustCompile(`crumb_consent=1\.([\w-]+)\.`).FindStringSubmatch(evalJS[string](t, ctx, "document.cookie"))[1]
	if got := storedActions(t, rc, id); !slices.Equal(got, []string{"reject_all"}) {
		t.Fatalf("store holds %v for %s, want [reject_all]", got, id)
	}
	// The server set the cookie itself (same origin), so it lives its full
	// validity even where browsers cap cookies written by scripts.
	if !slices.ContainsFunc(setCookies(), func(c string) bool { return strings.HasPrefix(c, "crumb_consent=1."+id+".1.-.") }) {
		t.Errorf("no Set-Cookie crumb_consent from the API; saw %q", setCookies())
	}

	// Accept all from the icon, then withdraw with Reject all.
	clickJS(t, ctx, shadow(".i"))
	clickJS(t, ctx, shadow(".ft .a"))
	waitJS(t, ctx, `/(^|; )_ga_DEMO123=/.test(document.cookie) && /(^|; )_fbp=/.test(document.cookie)`)
	evalJS[bool](t, ctx, `window.before = true`)
	clickJS(t, ctx, shadow(".i"))
	clickJS(t, ctx, shadow(".ft .r"))
	waitJS(t, ctx, `!window.before && document.readyState === 'complete'`) // reload_on_withdraw
	if got := storedActions(t, rc, id); !slices.Equal(got, []string{"reject_all", "accept_all", "withdraw"}) {
		t.Errorf("store holds %v, want reject_all, accept_all, withdraw", got)
	}
	if got := evalJS[string](t, ctx, `document.cookie.split('; ').map(c => c.split('=')[0]).sort().join(' ')`); got != "crumb_consent" {
		t.Errorf("cookies after the withdrawal: %q, want only crumb_consent", got)
	}

	// Raise the revision: the banner asks again, and the answer joins the
	// same consent.
	s.stop(t)
	raised := filepath.Join(t.TempDir(), "crumb.yaml")
	example, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(raised, []byte(strings.Replace(string(example), "revision: 1", "revision: 2", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	s = startServe(t, environ, "-config", raised)
	open(t, ctx, s.base+"/")
	waitJS(t, ctx, shadow(".b"))
	clickJS(t, ctx, shadow(".bs .a"))
	waitJS(t, ctx, `/crumb_consent=1\.[\w-]+\.2\./.test(document.cookie)`)
	if got := storedActions(t, rc, id); len(got) != 4 || got[3] != "accept_all" {
		t.Errorf("after the re-prompt the store holds %v, want a fourth record, accept_all", got)
	}
}

// storedActions reads a consent's history straight from Redis (key schema
// in consentapi/redisstore/keys.go) and returns its actions in order.
func storedActions(t *testing.T, rc *redis.Client, id string) []string {
	t.Helper()
	var actions []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		actions = nil
		hist, _ := rc.Get(context.Background(), "crumb:{exempel}:c:"+id).Result()
		for _, tok := range strings.Fields(strings.ReplaceAll(hist, ",", " ")) {
			_, event, _ := strings.Cut(tok, ":")
			raw, err := rc.Get(context.Background(), "crumb:{exempel}:r:"+event).Result()
			if err != nil {
				continue
			}
			var rec struct {
				Action string `json:"action"`
			}
			json.Unmarshal([]byte(raw), &rec)
			actions = append(actions, rec.Action)
		}
		if len(actions) > 0 || time.Now().After(deadline) {
			return actions
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// watchSetCookies records the Set-Cookie headers of the consent API's
// answers as the browser received them.
func watchSetCookies(t *testing.T, ctx context.Context) func() []string {
	var mu sync.Mutex
	var seen []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventResponseReceivedExtraInfo); ok {
			for k, v := range e.Headers {
				if strings.EqualFold(k, "Set-Cookie") {
					mu.Lock()
					seen = append(seen, strings.Split(v.(string), "\n")...)
					mu.Unlock()
				}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

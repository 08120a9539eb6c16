package crawl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// browserSession is one running Chromium on a profile directory: the
// visitor of one consent mode. A recycle replaces it with a new process on
// the same profile.
type browserSession struct {
	opts    Options
	l       *launcher
	ctx     context.Context // chromedp's context of the browser
	cancel  context.CancelFunc
	free    context.CancelFunc // the allocator context
	ua      string             // the browser's user agent without "Headless"
	binding string             // the name of hook.js's binding, random per browser
}

// preferences turn off Chromium's default blocking of third-party cookies
// in a fresh profile, which would hide exactly the cookies a scan is for.
const preferences = `{"profile":{"cookie_controls_mode":0}}`

// prepareProfile creates a profile directory Chromium will start with.
func prepareProfile(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "Default"), 0o700); err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Default", "Preferences"), []byte(preferences), 0o600); err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	return nil
}

// chromiumArgs is the browser's command line: headless, no traffic of its
// own (no sync, updates, safe browsing pings), background tabs not
// throttled (several tabs load at once), the V8 heap capped, popups blocked.
func chromiumArgs(o Options, profile string) []string {
	args := []string{
		"--headless=new",
		"--disable-gpu",
		"--disable-dev-shm-usage",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-default-apps",
		"--disable-extensions",
		"--disable-breakpad",
		"--disable-client-side-phishing-detection",
		"--disable-domain-reliability",
		"--disable-hang-monitor",
		"--disable-prompt-on-repost",
		"--disable-background-timer-throttling",
		"--disable-backgrounding-occluded-windows",
		"--disable-renderer-backgrounding",
		"--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
		"--no-first-run",
		"--no-default-browser-check",
		"--metrics-recording-only",
		"--password-store=basic",
		"--use-mock-keychain",
		"--mute-audio",
		"--hide-scrollbars",
		"--window-size=1366,900",
		"--js-flags=--max-old-space-size=" + strconv.Itoa(o.MaxHeapMB),
		"--user-data-dir=" + filepath.Clean(profile),
	}
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox") // Chromium refuses to run as root with its sandbox
	}
	if o.IgnoreTLSErrors {
		args = append(args, "--ignore-certificate-errors")
	}
	return append(args, o.ChromiumFlags...)
}

// startBrowser starts Chromium on profile and waits until it answers.
func startBrowser(o Options, path, profile string) (*browserSession, error) {
	l := &launcher{path: path, args: chromiumArgs(o, profile), profile: profile, log: o.Logger}
	actx, free := chromedp.NewAllocatorContext(context.Background(), l)
	// chromedp's cancel waits for the browser and may run only once; the
	// plain cancel of a context between the two ends its work at once.
	actx, stop := context.WithCancel(actx)
	debug := func(format string, a ...any) { o.Logger.Debug("chromedp: " + fmt.Sprintf(format, a...)) }
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(debug), chromedp.WithErrorf(debug))
	b := &browserSession{opts: o, l: l, ctx: ctx, cancel: sync.OnceFunc(cancel), free: func() { stop(); free() }, binding: "__crumb" + randomHex(8)}

	// The first Run ties the browser's life to its context, so it cannot
	// carry a deadline; a watchdog ends a start that hangs.
	watchdog := time.AfterFunc(30*time.Second, stop)
	err := chromedp.Do(ctx)
	watchdog.Stop()
	if err != nil {
		b.close()
		if out := strings.TrimSpace(l.output()); out != "" {
			return nil, fmt.Errorf("start chromium %s: %w; it said: %s", path, err, out)
		}
		return nil, fmt.Errorf("start chromium %s: %w", path, err)
	}
	go func() {
		if done := l.exited(); done != nil {
			<-done
			stop()
		}
	}()
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	defer ccancel()
	if _, err := chromedp.CallBrowser(cctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorDeny}); err != nil {
		b.close()
		return nil, fmt.Errorf("start chromium: deny downloads: %w", err)
	}
	if v, err := chromedp.CallBrowser(cctx, browser.GetVersion, cdp.Empty{}); err == nil {
		b.ua = strings.Replace(v.UserAgent, "HeadlessChrome", "Chrome", 1)
	}
	// A page may open windows of its own; the crawler closes them.
	_ = chromedp.ListenBrowser(ctx, func(ev any) {
		if e, ok := ev.(*target.EventTargetCreated); ok && e.TargetInfo != nil && e.TargetInfo.OpenerID != "" && e.TargetInfo.Type == "page" {
			go func() {
				c, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				_, _ = chromedp.CallBrowser(c, target.CloseTarget, target.CloseTargetParams{TargetID: e.TargetInfo.TargetID})
			}()
		}
	})
	return b, nil
}

// alive reports whether the browser process still runs.
func (b *browserSession) alive() bool {
	select {
	case <-b.ctx.Done():
		return false
	default:
		return true
	}
}

// close shuts the browser down gracefully (so its profile is written out),
// kills it if it does not go, and kills any process left on its profile.
func (b *browserSession) close() {
	if b.l.mux != nil && b.alive() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = b.l.mux.call(ctx, "", nil, browser.Close.Method, nil, nil)
		cancel()
	}
	b.l.stop(5 * time.Second)
	b.cancel()
	b.free()
}

// jar returns every cookie in the browser, HttpOnly and third-party ones
// included.
func (b *browserSession) jar(ctx context.Context) ([]*network.Cookie, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	res, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		return nil, fmt.Errorf("read cookies: %w", err)
	}
	return res.Cookies, nil
}

// restore puts cookies back into the jar, to carry session cookies over a
// recycle.
func (b *browserSession) restore(cookies []*network.Cookie) error {
	var params []*network.CookieParam
	for _, c := range cookies {
		p := &network.CookieParam{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path, Secure: c.Secure,
			HTTPOnly: c.HTTPOnly, SameSite: c.SameSite, PartitionKey: c.PartitionKey}
		if !c.Session && c.Expires > 0 {
			p.Expires = cdp.TimeSinceEpoch(c.Expires)
		}
		params = append(params, p)
	}
	if len(params) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.CallBrowser(ctx, storage.SetCookies, storage.SetCookiesParams{Cookies: params}); err != nil {
		return fmt.Errorf("restore cookies: %w", err)
	}
	return nil
}

// openTab opens a new tab in the browser's default context, where every
// tab shares one cookie jar, as one visitor's tabs do.
func (b *browserSession) openTab() (context.Context, context.CancelFunc, error) {
	ctx, cancel := chromedp.NewContext(b.ctx)
	watchdog := time.AfterFunc(15*time.Second, cancel)
	err := chromedp.Do(ctx)
	watchdog.Stop()
	if err != nil {
		cancel()
		if !b.alive() {
			err = errBrowserGone
		}
		return nil, nil, fmt.Errorf("open tab: %w", err)
	}
	return ctx, cancel, nil
}

// fetchDocument loads a URL in a tab of its own and returns the document's
// content type and text; it is how robots.txt and sitemaps are read, through
// the same browser, proxy and host rules as the pages.
func (b *browserSession) fetchDocument(ctx context.Context, rawURL string) (string, string, error) {
	tab, closeTab, err := b.openTab()
	if err != nil {
		return "", "", err
	}
	defer closeTab()
	stop := context.AfterFunc(ctx, closeTab)
	defer stop()
	tctx, cancel := context.WithTimeout(tab, min(15*time.Second, b.opts.PageTimeout))
	defer cancel()
	resp, err := chromedp.Run(tctx, chromedp.NavigateResponse(rawURL))
	if err != nil {
		return "", "", fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	if resp == nil || resp.Status != 200 {
		return "", "", fmt.Errorf("fetch %s: %w", rawURL, errNotFound)
	}
	doc, err := chromedp.Run(tctx, chromedp.Evaluate[loadedDocument](documentScript(maxDocumentText), chromedp.EvalAwaitPromise))
	if err != nil {
		return "", "", fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	return doc.Type, doc.Text, nil
}

// loadedDocument is what document.js returns.
type loadedDocument struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

var errNotFound = errors.New("no such document")

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

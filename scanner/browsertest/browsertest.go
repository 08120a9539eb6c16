// Package browsertest starts one real headless Chromium per test binary and
// hands each test a fresh tab. It is used by the tests of widget, crawl and
// cmd/crumb. There is no fake browser: a missing Chromium fails the tests
// with a message naming the package to install; it never skips them.
//
// A test package that uses it calls Main from TestMain, so the browser is
// closed and checked for leaked processes after the last test:
//
//	func TestMain(m *testing.M) { browsertest.Main(m) }
//
//	func TestBanner(t *testing.T) {
//		ctx := browsertest.Tab(t)
//		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil { … }
//	}
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ExecPath returns the Chromium binary to use: $CRUMB_CHROMIUM when set, else
// the first of chromium, chromium-browser, google-chrome and
// headless-shell on PATH.
func ExecPath() (string, error) {
	if p := os.Getenv("CRUMB_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found: install Debian's chromium package (apt-get install chromium) or set CRUMB_CHROMIUM")
}

// Flags are the Chromium flags the shared browser runs with: headless, no
// sandbox (tests run as root in CI), and no background traffic to Google's
// hosts, which these machines cannot reach.
func Flags() []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
	)
}

var (
	once       sync.Once
	browserCtx context.Context
	cancelAll  context.CancelFunc
	profileDir string
	startErr   error
)

func start() {
	path, err := ExecPath()
	if err != nil {
		startErr = err
		return
	}
	profileDir, err = os.MkdirTemp("", "crumb-browsertest-")
	if err != nil {
		startErr = err
		return
	}
	opts := append(Flags(), chromedp.ExecPath(path), chromedp.UserDataDir(profileDir))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		startErr = fmt.Errorf("start %s: %w", path, err)
		return
	}
	browserCtx = ctx
	cancelAll = func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = chromedp.Cancel(cctx)
		cancelBrowser()
		cancelAlloc()
	}
}

// Browser returns the context of the shared browser, starting it on first
// use. Tests normally want Tab.
func Browser(tb testing.TB) context.Context {
	tb.Helper()
	once.Do(start)
	if startErr != nil {
		tb.Fatalf("browsertest: %v", startErr)
	}
	return browserCtx
}

// Tab opens a new tab in the shared browser and closes it when the test
// ends. Each tab lives in its own browser context (an incognito-like
// profile), so cookies and storage never leak between tests.
func Tab(tb testing.TB) context.Context {
	tb.Helper()
	parent := Browser(tb)
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		tb.Fatalf("browsertest: open tab: %v", err)
	}
	tb.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		_ = chromedp.Cancel(cctx)
		cancel()
	})
	return ctx
}

// Main runs the tests, then closes the shared browser and fails the run if
// any Chromium process started by it is still alive or its profile directory
// was left behind.
func Main(m *testing.M) {
	code := m.Run()
	if browserCtx != nil {
		cancelAll()
		if left := waitGone(profileDir, 15*time.Second); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "browsertest: %d Chromium processes left running: %v\n", len(left), left)
			code = 1
		}
		os.RemoveAll(profileDir)
	}
	os.Exit(code)
}

// waitGone waits until no process has marker on its command line and returns
// the pids still alive at the deadline.
func waitGone(marker string, d time.Duration) []int {
	deadline := time.Now().Add(d)
	for {
		left := Processes(marker)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Processes returns the pids of live processes whose command line contains
// marker (typically a profile directory). Zombies are not counted. It reads
// /proc and returns nil where there is none.
func Processes(marker string) []int {
	if marker == "" {
		return nil
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmd), marker) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			// The state follows the command name in parentheses.
			if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
				continue
			}
		}
		pids = append(pids, pid)
	}
	return pids
}

package crawl

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/crumbhq/crumb/scanner"
)

// Options configure a scan. The zero value of every field but URL means its
// default.
type Options struct {
	// URL is the start page, http or https. The site is every host under
	// the start host's registrable domain (eTLD+1).
	URL string

	// Modes are the consent modes to visit the site in, in order, each as a
	// fresh visitor: scanner.ModeNone (default), scanner.ModeAcceptAll,
	// and "grant:<category>" (scanner.GrantMode) for a visitor who granted
	// that category alone, which the crawler can grant on sites that run
	// crumb's widget (through its consent cookie) or a consent platform
	// whose API grants one category (js/grant.js).
	Modes []string

	MaxPages    int           // pages per mode; default 50
	MaxDepth    int           // link hops from the start page; default 5
	MaxDuration time.Duration // the whole scan; default 15 minutes
	PageTimeout time.Duration // one page, from opening its tab to closing it; default 30s
	Dwell       time.Duration // time spent on a loaded page before collecting; default 2s; negative means none
	Concurrency int           // tabs open at once; default 2
	// RecycleAfter restarts the browser after this many pages, on the same
	// profile, carrying the visitor's cookies over; default 40.
	RecycleAfter int

	// ChromiumPath is the browser binary; default: chromium,
	// chromium-browser, google-chrome or headless-shell on PATH.
	ChromiumPath string
	// ChromiumFlags are added to the browser's command line, e.g.
	// "--host-resolver-rules=MAP * 127.0.0.1", "--proxy-server=...".
	ChromiumFlags []string
	// IgnoreTLSErrors accepts any certificate.
	IgnoreTLSErrors bool
	// MaxHeapMB caps each page's JavaScript heap, so a runaway page dies
	// fast; default 512.
	MaxHeapMB int
	// TempDir holds the browser profiles while the scan runs; default the
	// system temporary directory. Each profile is removed when its mode ends.
	TempDir string

	// Progress, if set, is called after each page, from one goroutine.
	Progress func(Progress)
	// Logger receives debug detail; default discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Progress reports one finished page.
type Progress struct {
	Mode    string
	Page    scanner.Page
	Done    int // pages finished in this mode
	Queued  int // pages known and not yet visited, within the page limit
	Elapsed time.Duration
}

// ErrBadOptions is wrapped by the error Validate returns.
var ErrBadOptions = errors.New("invalid scan options")

// Validate reports every problem with o at once, wrapping ErrBadOptions.
func (o Options) Validate() error {
	var probs []string
	if _, err := startURL(o.URL); err != nil {
		probs = append(probs, err.Error())
	}
	for _, m := range o.Modes {
		if err := scanner.CheckMode(m); err != nil {
			probs = append(probs, err.Error())
		}
	}
	if len(o.Modes) != len(uniq(o.Modes)) {
		probs = append(probs, "a consent mode is listed twice")
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"max pages", o.MaxPages}, {"max depth", o.MaxDepth}, {"concurrency", o.Concurrency}, {"recycle after", o.RecycleAfter}, {"max heap", o.MaxHeapMB}} {
		if f.v < 0 {
			probs = append(probs, f.name+" must not be negative")
		}
	}
	if o.Concurrency > 16 {
		probs = append(probs, "concurrency above 16 tabs is not supported")
	}
	if o.MaxDuration < 0 || o.PageTimeout < 0 {
		probs = append(probs, "durations must not be negative")
	}
	if o.PageTimeout > 0 && o.PageTimeout < 2*time.Second {
		probs = append(probs, "page timeout must be at least 2s")
	}
	for _, f := range o.ChromiumFlags {
		if !strings.HasPrefix(f, "--") {
			probs = append(probs, fmt.Sprintf("chromium flag %q must start with --", f))
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("%w: %s", ErrBadOptions, strings.Join(probs, "; "))
	}
	return nil
}

// startURL parses and checks a start URL.
func startURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("no start URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("start URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("start URL %q: want an http or https URL", s)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("start URL %q has no host", s)
	}
	return u, nil
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if len(o.Modes) == 0 {
		o.Modes = []string{scanner.ModeNone}
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.MaxPages, 50)
	def(&o.MaxDepth, 5)
	def(&o.Concurrency, 2)
	def(&o.RecycleAfter, 40)
	def(&o.MaxHeapMB, 512)
	if o.MaxDuration == 0 {
		o.MaxDuration = 15 * time.Minute
	}
	if o.PageTimeout == 0 {
		o.PageTimeout = 30 * time.Second
	}
	if o.Dwell == 0 {
		o.Dwell = 2 * time.Second
	} else if o.Dwell < 0 {
		o.Dwell = 0
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// FindChromium returns the first Chromium-like browser on PATH.
func FindChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// ErrNoChromium means no browser was found.
var ErrNoChromium = errors.New("no Chromium found on PATH: install Debian's chromium package or give the path to the browser")

func uniq(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

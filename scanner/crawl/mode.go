package crawl

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/network"

	"github.com/crumbhq/crumb/scanner"
)

// modeRun crawls the site once, as one fresh visitor in one consent mode:
// a new profile, one browser (recycled every RecycleAfter pages on the same
// profile), the start page first, then the sitemaps' and links' pages,
// Concurrency tabs at a time.
type modeRun struct {
	opts     Options
	mode     string
	only     scanner.Category // the category a grant: mode grants alone; "" in none and accept-all
	granted  atomic.Bool      // a grant: mode's consent cookie is set
	accepted atomic.Bool      // accept-all: a page set crumb's cookie or clicked an accept control
	start    *url.URL
	site     string
	path     string // the Chromium binary
	deadline time.Time

	profile string
	b       *browserSession
	front   *frontier
	tally   *tally
	pages   []scanner.Page
	notes   []string
	began   time.Time
	onB     int // pages visited on the current browser
}

// modeResult is what one mode found.
type modeResult struct {
	mode    string
	granted bool // a grant: mode granted its category
	pages   []scanner.Page
	tally   *tally
	notes   []string
}

// runMode crawls in one mode. It returns an error only when it could not
// run the browser; page failures are recorded on the pages.
func runMode(ctx context.Context, o Options, mode string, start *url.URL, site, path string, deadline time.Time) (*modeResult, error) {
	run := &modeRun{opts: o, mode: mode, start: start, site: site, path: path, deadline: deadline,
		front: newFrontier(site, o.MaxDepth), tally: newTally(site, mode), began: o.Now()}
	if c, ok := scanner.GrantedCategory(mode); ok {
		run.only = c // only a grant: mode grants one category; none and accept-all grant none alone
	}
	profile, err := os.MkdirTemp(o.TempDir, "crumb-scan-")
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	defer os.RemoveAll(profile)
	run.profile = profile
	if err := prepareProfile(profile); err != nil {
		return nil, err
	}
	if run.b, err = startBrowser(o, path, profile); err != nil {
		return nil, err
	}
	defer func() { run.b.close() }()

	run.front.add(start.String(), nil, "start", 0)
	v, _ := run.front.next()
	first := run.grantStep()
	if mode == scanner.ModeAcceptAll {
		first = grantAny
	}
	run.absorb(ctx, run.visitPage(ctx, v, first))

	if ctx.Err() == nil && run.b.alive() {
		// Reading sitemaps is bounded as a whole, not only per document.
		until := time.Now().Add(maxDiscovery)
		if deadline.Before(until) {
			until = deadline
		}
		dctx, cancel := context.WithDeadline(ctx, until)
		pages, notes := discoverSitemaps(dctx, run.b.fetchDocument, start, site)
		cancel()
		run.notes = append(run.notes, notes...)
		for _, p := range pages {
			run.front.add(p, nil, "sitemap", 1)
		}
	}
	if err := run.crawl(ctx); err != nil {
		return nil, err
	}
	if run.only != "" && !run.granted.Load() {
		run.notes = append(run.notes, fmt.Sprintf("%s: no page ran crumb's widget, or a consent platform whose API grants one category (Cookiebot, OneTrust, CookieScript, vanilla-cookieconsent), with a category %q to grant, so it could not be granted alone; this visit saw the site as a visitor without consent and releases nothing", mode, run.only))
	}
	if mode == scanner.ModeAcceptAll && !run.accepted.Load() && startAnswered(run.pages) {
		run.notes = append(run.notes, fmt.Sprintf("%s: found no consent banner to accept (no crumb widget, no accept control of a known platform or with an accept text) on any page, so nothing was accepted; this visit saw the site as a visitor without consent", mode))
	}
	return &modeResult{mode: mode, granted: run.granted.Load(), pages: run.pages, tally: run.tally, notes: run.notes}, nil
}

// startAnswered reports whether the mode's start page got a response, so
// that a banner could have been looked for.
func startAnswered(pages []scanner.Page) bool {
	for _, p := range pages {
		if p.Via == "start" && p.Status > 0 {
			return true
		}
	}
	return false
}

// grantStep is what a page visit does about consent in the run's mode:
// nothing without consent, a click on a banner that shows again after
// accept-all, and crumb's consent cookie for one category until a page
// has set it.
func (run *modeRun) grantStep() grantStep {
	switch {
	case run.mode == scanner.ModeAcceptAll:
		return grantClick
	case run.only != "" && !run.granted.Load():
		return grantOne
	}
	return grantNothing
}

// crawl visits queued pages, Concurrency at a time, until the queue, the
// page limit or the time runs out.
func (run *modeRun) crawl(ctx context.Context) error {
	o := run.opts
	results := make(chan *pageResult)
	inflight := 0
	for {
		for inflight < o.Concurrency && run.canStart(ctx, inflight) && run.onB < o.RecycleAfter && run.b.alive() {
			v, ok := run.front.next()
			if !ok {
				break
			}
			inflight++
			run.onB++
			g := run.grantStep()
			go func() { results <- run.visitPage(ctx, v, g) }()
		}
		if inflight == 0 {
			if run.front.len() == 0 || !run.canStart(ctx, 0) {
				break
			}
			if err := run.recycle(); err != nil {
				return err
			}
			continue
		}
		res := <-results
		inflight--
		run.absorb(ctx, res)
	}
	if n := run.front.len(); n > 0 {
		switch {
		case ctx.Err() != nil:
			run.notes = append(run.notes, fmt.Sprintf("%s: scan interrupted; %d pages not visited", run.mode, n))
		case time.Now().After(run.deadline):
			run.notes = append(run.notes, fmt.Sprintf("%s: time limit of %s reached; %d pages not visited", run.mode, o.MaxDuration, n))
		default:
			run.notes = append(run.notes, fmt.Sprintf("%s: page limit of %d reached; %d more pages found and not visited", run.mode, o.MaxPages, n))
		}
	}
	return nil
}

// canStart reports whether another page may start, with inflight pages
// under way.
func (run *modeRun) canStart(ctx context.Context, inflight int) bool {
	return ctx.Err() == nil && len(run.pages)+inflight < run.opts.MaxPages && time.Now().Before(run.deadline)
}

// absorb records a finished page: its result, the jar after it, its links.
func (run *modeRun) absorb(ctx context.Context, res *pageResult) {
	now := run.opts.Now()
	run.pages = append(run.pages, res.page)
	run.notes = append(run.notes, res.notes...)
	run.tally.addPage(res, now)
	if jar, err := run.b.jar(ctx); err == nil {
		run.tally.addJar(jar, res.page.URL, now)
	}
	if res.page.RedirectedTo != "" {
		run.front.markSeen(res.page.RedirectedTo)
	}
	base, _ := url.Parse(res.page.URL)
	if res.page.RedirectedTo != "" {
		base, _ = url.Parse(res.page.RedirectedTo)
	}
	for _, l := range res.links {
		run.front.add(l, base, "link", res.page.Depth+1)
	}
	if p := run.opts.Progress; p != nil {
		p(Progress{Mode: run.mode, Page: res.page, Done: len(run.pages),
			Queued: min(run.front.len(), max(0, run.opts.MaxPages-len(run.pages))), Elapsed: now.Sub(run.began)})
	}
}

// recycle replaces the browser with a new one on the same profile. Cookies
// stored on disk survive by themselves; session cookies are carried over
// from the jar. A browser that died on its own loses its session cookies,
// and the report says so.
func (run *modeRun) recycle() error {
	var jar []*network.Cookie
	alive := run.b.alive()
	if alive {
		jar, _ = run.b.jar(context.Background())
	} else {
		run.notes = append(run.notes, fmt.Sprintf("%s: the browser exited after %d pages and was restarted; its session cookies were lost", run.mode, len(run.pages)))
	}
	run.b.close()
	b, err := startBrowser(run.opts, run.path, run.profile)
	if err != nil {
		return fmt.Errorf("restart browser: %w", err)
	}
	run.b, run.onB = b, 0
	if err := b.restore(jar); err != nil {
		return fmt.Errorf("restart browser: %w", err)
	}
	return nil
}

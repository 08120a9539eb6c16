package crawl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/crumbhq/crumb/scanner"
)

// pageResult is everything one page visit found.
type pageResult struct {
	page    scanner.Page
	links   []string // absolute URLs found on the page
	rec     *recorder
	storage []frameStorage
	notes   []string
}

// pageVisit is one page being visited in a tab of its own.
type pageVisit struct {
	run *modeRun
	url string
	t   *chromedp.Target
	rec *recorder
	res *pageResult
}

// Page-visit timing: the share of the page timeout kept for collecting
// after a page that never finishes loading, and the caps of the waits.
const (
	collectShare = 5 // one fifth of the page timeout, at least minCollect
	minCollect   = time.Second
	maxQuiet     = 5 * time.Second
	maxScroll    = 1500 * time.Millisecond
	dialogLoop   = 10 // more dialogs than this on one page is reported
)

// visitPage loads one page in a new tab, lets it settle, and collects what
// it stored. Every step is bounded by the page timeout; a page that hangs,
// crashes or never stops opening dialogs ends with its error recorded, and
// the tab is always closed.
func (run *modeRun) visitPage(ctx context.Context, v visit, g grantStep) *pageResult {
	o := run.opts
	began := o.Now()
	res := &pageResult{page: scanner.Page{URL: v.URL, Mode: run.mode, Via: v.Via, Depth: v.Depth}}
	defer func() { res.page.Duration = scanner.Duration(o.Now().Sub(began).Round(time.Millisecond)) }()

	tab, closeTab, err := run.b.openTab()
	if err != nil {
		res.page.Error = err.Error()
		return res
	}
	defer closeTab()
	deadline := time.Now().Add(o.PageTimeout)
	pctx, cancel := context.WithDeadline(tab, deadline)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()

	t := chromedp.FromContext(tab).Target
	pv := &pageVisit{run: run, url: v.URL, t: t, res: res,
		rec: newRecorder(tab, run.site, run.b.binding, cdp.FrameID(t.TargetID), o.Now)}
	res.rec = pv.rec
	pv.rec.setPage(v.URL)
	if err := chromedp.Listen(tab, func(ev any) { pv.rec.handle(t, "", ev) }); err != nil {
		res.page.Error = err.Error()
		return res
	}
	mux := run.b.l.mux
	mux.watch(t.SessionID, func(c *childSession) {
		c.listen(func(ev any) { pv.rec.handle(c, string(c.id), ev) })
		if err := setupChild(tab, c, run.b.binding, run.b.ua); err != nil {
			o.Logger.Debug("child target", "type", c.info.Type, "err", err)
		}
	})
	defer mux.unwatch(t.SessionID)

	collectBy := deadline.Add(-max(minCollect, o.PageTimeout/collectShare))
	lctx, lcancel := context.WithDeadline(pctx, collectBy)
	defer lcancel()
	loadErr := pv.load(lctx, g)
	pv.collect(pctx)
	pv.finish(loadErr)
	return res
}

// load navigates and lets the page settle: load event, network quiet,
// scrolling, dwelling, and in accept-all mode granting consent.
func (v *pageVisit) load(ctx context.Context, g grantStep) error {
	if err := setupTab(ctx, v.t, v.run.b.binding, v.run.b.ua); err != nil {
		return fmt.Errorf("prepare tab: %w", err)
	}
	if err := navigate(ctx, v.t, v.url); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("no response: %w", err)
		}
		return err
	}
	if err := v.settle(ctx); err != nil {
		return err
	}
	if g != grantNothing {
		if err := v.grant(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

// settle waits for the load event and a quiet network, scrolls through the
// page and dwells on it.
func (v *pageVisit) settle(ctx context.Context) error {
	log := v.run.opts.Logger.With("url", v.url)
	if err := v.rec.waitLife(ctx, "load"); err != nil {
		return fmt.Errorf("did not finish loading: %w", err)
	}
	log.Debug("loaded")
	qctx, cancel := context.WithTimeout(ctx, maxQuiet)
	err := v.rec.waitLife(qctx, "networkIdle")
	cancel()
	log.Debug("network quiet", "err", err)
	sctx, cancel := context.WithTimeout(ctx, maxScroll+time.Second)
	_, err = evalIn[int](sctx, v.t, v.rec.mainFrame, scrollScript(maxScroll.Milliseconds()))
	cancel()
	log.Debug("scrolled", "err", err)
	select {
	case <-time.After(v.run.opts.Dwell):
	case <-v.rec.crashed:
		return errRendererCrashed
	case <-ctx.Done():
	}
	return nil
}

// grantStep says what a visit does about consent.
type grantStep int

const (
	grantNothing grantStep = iota // consent mode none; a grant mode once granted
	grantClick                    // accept-all, later pages: click a banner that shows again
	grantAny                      // accept-all, start page: crumb's cookie or a click
	grantOne                      // grant:<category> until granted: crumb's cookie for that category
)

// grant gives consent: in accept-all mode crumb's cookie if the page runs
// crumb's widget, otherwise a click on the banner's accept control; in a
// grant:<category> mode crumb's cookie granting that category alone, or
// the page's consent platform's API granting it, or nothing. After either,
// the page settles again.
func (v *pageVisit) grant(ctx context.Context, g grantStep) error {
	var note string
	accepted := false // accept-all: crumb's cookie set or an accept control clicked
	switch g {
	case grantAny, grantOne:
		var only scanner.Category
		if g == grantOne {
			only = v.run.only
		}
		n, ok, err := v.grantCrumb(ctx, only)
		if err != nil {
			return err
		}
		if g == grantOne && n == "" {
			if n, ok, err = v.grantCMP(ctx, only); err != nil {
				return err
			}
		}
		if g == grantOne {
			if ok {
				v.run.granted.Store(true)
			}
			if n != "" {
				v.res.notes = append(v.res.notes, n)
			}
			if !ok {
				return nil
			}
			return v.settle(ctx)
		}
		note, accepted = n, ok
	}
	if note == "" {
		note = v.clickAccept(ctx)
		accepted = note != ""
	}
	if note == "" && g == grantAny {
		// The start page is where a banner is expected: give a late one
		// (a platform's script still loading, a busy machine) some time.
		note = v.awaitAccept(ctx, bannerWait)
		accepted = note != ""
	}
	if note == "" {
		return nil
	}
	if accepted {
		v.run.accepted.Store(true)
	}
	v.res.notes = append(v.res.notes, note)
	return v.settle(ctx)
}

// bannerWait is how long the start page of an accept-all visit looks for
// a banner that was not there once the page had settled.
const bannerWait = 5 * time.Second

// awaitAccept tries clickAccept every quarter second for up to d.
func (v *pageVisit) awaitAccept(ctx context.Context, d time.Duration) string {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ""
		case <-v.rec.crashed:
			return ""
		case <-t.C:
		}
		if note := v.clickAccept(ctx); note != "" {
			return note
		}
	}
}

// finish fills in the page record: status, where it ended, and the first
// error that explains what went wrong.
func (v *pageVisit) finish(loadErr error) {
	doc := v.rec.document()
	p := &v.res.page
	p.Status = int(doc.status)
	if doc.url != "" && doc.url != v.url && doc.blocked == "" {
		if u, ok := normalize(doc.url, nil); ok && u != v.url {
			p.RedirectedTo = u
		}
	}
	var msg string
	switch {
	case doc.blocked != "":
		msg = doc.blocked
	case v.rec.isCrashed():
		msg = errRendererCrashed.Error()
	case loadErr != nil:
		msg = loadErr.Error()
		if errors.Is(loadErr, context.DeadlineExceeded) {
			msg = fmt.Sprintf("%s (page timeout %s)", msg, v.run.opts.PageTimeout)
		}
	}
	if n := v.rec.dialogCount(); n > dialogLoop {
		msg = joinMsg(msg, fmt.Sprintf("kept opening dialogs (%d dismissed)", n))
	}
	p.Error = msg
}

func joinMsg(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

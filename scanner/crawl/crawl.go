// Package crawl scans a website in headless Chromium as a fresh visitor and
// reports every cookie and web storage key it stores, who stored it, and
// which third-party hosts its pages contact. It is the engine behind
// "crumb scan" and the scheduled scans.
//
// A scan visits the site once per consent mode (see Options.Modes), each as
// a new visitor with a profile of its own: the start page first, then the
// pages of the site's sitemaps (robots.txt and /sitemap.xml, indexes too)
// and the links found on the way, staying on the start URL's registrable
// domain. Several tabs load pages at once in one browser context, so the
// cookies accumulate as for one visitor.
//
// Each page loads in a fresh tab: the crawler waits for the load event and
// a quiet network, scrolls to trigger lazy tags, dwells, then collects.
// Three sources say what was stored and by whom:
//
//   - the browser's cookie jar (Storage.getCookies), the ground truth,
//     read after every page;
//   - Set-Cookie headers, with the URL of the response that carried them
//     (Network.responseReceivedExtraInfo, which also names the cookies the
//     browser refused);
//   - js/hook.js, installed in every document before the page's own
//     scripts, which reports each document.cookie, cookieStore.set and
//     Storage.setItem write with the URL of the script that made it.
//
// Cross-site iframes run in processes of their own; the crawler attaches
// to them paused (see sessionMux), installs the same hooks, and reads their
// storage through their own sessions. Values are never kept, only lengths.
//
// Every step is bounded by Options.PageTimeout: a page that never finishes
// loading, loops on alert(), crashes its renderer, redirects in a loop or
// off the site, or is a download ends with its error recorded and the scan
// goes on. No Chromium process outlives Scan.
package crawl

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/crumbhq/crumb/scanner"
)

// ErrStartPage is wrapped by Scan's error when the start page could not be
// loaded in any mode, so the report says nothing about the site.
var ErrStartPage = errors.New("the start page could not be loaded")

// Scan crawls the site of o.URL and returns its report. After a
// cancellation of ctx or a failure to run the browser it returns the
// partial report with the error; a report whose start page never loaded
// comes with an error wrapping ErrStartPage.
func Scan(ctx context.Context, o Options) (*scanner.Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	u, _ := startURL(o.URL)
	norm, _ := normalize(u.String(), nil)
	start, _ := u.Parse(norm)
	site := registrable(start.Hostname())
	path := o.ChromiumPath
	if path == "" {
		var err error
		if path, err = FindChromium(); err != nil {
			return nil, err
		}
	}
	began := o.Now()
	rep := &scanner.Report{SchemaVersion: scanner.SchemaVersion, Site: start.String(), SiteDomain: site, StartedAt: began.UTC()}
	deadline := time.Now().Add(o.MaxDuration) // real time, whatever o.Now says
	var results []*modeResult
	var err error
	for _, mode := range o.Modes {
		if ctx.Err() != nil {
			break
		}
		o.Logger.Info("scanning", "domain", site, "mode", mode)
		var mr *modeResult
		if mr, err = runMode(ctx, o, mode, start, site, path, deadline); err != nil {
			err = fmt.Errorf("scan %s (consent %s): %w", start, mode, err)
			break
		}
		results = append(results, mr)
	}
	merge(rep, results)
	rep.FinishedAt = o.Now().UTC()
	switch {
	case ctx.Err() != nil:
		return rep, fmt.Errorf("scan interrupted: %w", context.Cause(ctx))
	case err != nil:
		return rep, err
	case !startLoaded(rep):
		return rep, fmt.Errorf("%w: %s", ErrStartPage, startError(rep))
	}
	return rep, nil
}

// startLoaded reports whether any mode's start page got a response.
func startLoaded(rep *scanner.Report) bool {
	for _, p := range rep.Pages {
		if p.Via == "start" && p.Status > 0 {
			return true
		}
	}
	return false
}

func startError(rep *scanner.Report) string {
	for _, p := range rep.Pages {
		if p.Via == "start" && p.Error != "" {
			return p.Error
		}
	}
	return "no response"
}

// merge combines the modes' findings: an item found in several modes is
// one item seen in each of them, keeping what the first mode saw.
func merge(rep *scanner.Report, results []*modeResult) {
	rep.Pages, rep.Items, rep.ThirdPartyHosts = []scanner.Page{}, []scanner.Item{}, []scanner.Host{}
	items := map[string]int{}
	hosts := map[string]int{}
	blocked := map[string]int{}
	for _, mr := range results {
		rep.Modes = append(rep.Modes, mr.mode)
		if mr.granted {
			rep.Granted = append(rep.Granted, mr.mode)
		}
		rep.Pages = append(rep.Pages, mr.pages...)
		for _, n := range mr.notes {
			if !slices.Contains(rep.Notes, n) {
				rep.Notes = append(rep.Notes, n)
			}
		}
		for _, it := range mr.tally.items() {
			k := itemKey(it)
			if i, ok := items[k]; ok {
				prev := &rep.Items[i]
				prev.SeenIn = append(prev.SeenIn, mr.mode)
				for _, p := range it.Pages {
					if !slices.Contains(prev.Pages, p) {
						prev.Pages = append(prev.Pages, p)
					}
				}
				continue
			}
			items[k] = len(rep.Items)
			rep.Items = append(rep.Items, it)
		}
		for _, h := range mr.tally.hostSeq {
			th := mr.tally.hosts[h]
			if i, ok := hosts[h]; ok {
				rep.ThirdPartyHosts[i].Requests += th.Requests
				rep.ThirdPartyHosts[i].SeenIn = append(rep.ThirdPartyHosts[i].SeenIn, mr.mode)
				continue
			}
			hosts[h] = len(rep.ThirdPartyHosts)
			rep.ThirdPartyHosts = append(rep.ThirdPartyHosts, *th)
		}
		for _, k := range slices.Sorted(maps.Keys(mr.tally.blocked)) {
			b := mr.tally.blocked[k]
			if i, ok := blocked[k]; ok {
				rep.BlockedCookies[i].SeenIn = append(rep.BlockedCookies[i].SeenIn, mr.mode)
				continue
			}
			blocked[k] = len(rep.BlockedCookies)
			rep.BlockedCookies = append(rep.BlockedCookies, *b)
		}
	}
	for i := range rep.Items {
		rep.Items[i].ReleasedBy = releasedBy(rep, rep.Items[i])
	}
	slices.SortStableFunc(rep.Items, func(a, b scanner.Item) int {
		return strings.Compare(itemKey(a), itemKey(b))
	})
	slices.SortStableFunc(rep.ThirdPartyHosts, func(a, b scanner.Host) int { return strings.Compare(a.Host, b.Host) })
}

// releasedBy returns the category whose consent released an item: the scan
// visited the site without consent and did not see the item then, and of
// the modes that granted one category alone exactly one saw it. The
// scanner's own consent cookie is released by no category.
func releasedBy(rep *scanner.Report, it scanner.Item) scanner.Category {
	if !slices.Contains(rep.Modes, scanner.ModeNone) || it.PreConsent() || it.SetVia == viaScanner {
		return ""
	}
	var by scanner.Category
	for _, m := range it.SeenIn {
		c, ok := scanner.GrantedCategory(m)
		if !ok || !slices.Contains(rep.Granted, m) {
			continue
		}
		if by != "" {
			return ""
		}
		by = c
	}
	return by
}

// itemKey identifies an item across modes.
func itemKey(it scanner.Item) string {
	where := it.Domain
	if it.Origin != "" {
		where = it.Origin
	}
	return string(it.Kind) + "\x00" + strings.TrimPrefix(where, ".") + "\x00" + it.Name + "\x00" + it.Domain + "\x00" + it.Path
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os/exec"
	"regexp"
	"strings"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/schedule"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
	"github.com/crumbhq/crumb/scanner/crawl"
)

// scanOptions are how this process scans and classifies.
type scanOptions struct {
	chromium      string   // Chromium binary; "" finds it on PATH
	chromiumFlags []string // extra Chromium flags, e.g. --host-resolver-rules=...
	cookieDB      []string // extra cookie knowledge files
}

// classifier returns the function that classifies a report with a site's
// overrides. It checks the knowledge files once, at start.
func (o scanOptions) classifier() (func(*scanner.Report, []store.Override) error, error) {
	if _, err := classify.New(classify.Options{ExtraDB: o.cookieDB}); err != nil {
		return nil, usagef("cookie knowledge: %v", err)
	}
	return func(r *scanner.Report, overrides []store.Override) error {
		c, err := classify.New(classify.Options{ExtraDB: o.cookieDB, Overrides: classifyOverrides(overrides)})
		if err != nil {
			return err
		}
		c.ClassifyReport(r)
		return nil
	}, nil
}

// classifyOverrides converts stored overrides to the classifier's.
func classifyOverrides(in []store.Override) []classify.Override {
	out := make([]classify.Override, 0, len(in))
	for _, o := range in {
		out = append(out, classify.Override{
			Name: o.Name, Domain: o.Domain, Kind: o.Kind, Category: o.Category,
			Provider: o.Provider, Purpose: o.Purpose, Justification: o.Justification,
		})
	}
	return out
}

// scanFunc returns the function the workers run for each job: decode the
// site's scan settings from the job and crawl each start URL in headless
// Chromium, merging the reports. Items are classified afterwards, with the
// site's overrides, by the results' Classify.
func (o scanOptions) scanFunc(logger *slog.Logger) schedule.ScanFunc {
	return func(ctx context.Context, job jobqueue.Job) (*scanner.Report, error) {
		settings, err := schedule.DecodeSettings(job.Data)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", job.ID, err)
		}
		var merged *scanner.Report
		for _, start := range settings.StartURLs {
			rep, err := crawl.Scan(ctx, crawl.Options{
				URL: start, Modes: settings.Modes, MaxPages: settings.MaxPages,
				ChromiumPath: o.chromium, ChromiumFlags: o.chromiumFlags,
				Logger: logger.With("site", job.Site, "job", job.ID),
			})
			if err != nil {
				return nil, err
			}
			merged = mergeReports(merged, rep)
		}
		return merged, nil
	}
}

// mergeReports adds the pages, items and hosts of b to a (nil for none):
// one report for a site scanned from several start URLs. An item found
// from two start URLs is kept once, as first found.
func mergeReports(a, b *scanner.Report) *scanner.Report {
	if a == nil {
		return b
	}
	a.Pages = append(a.Pages, b.Pages...)
	seen := map[string]bool{}
	key := func(it scanner.Item) string {
		return string(it.Kind) + "\x00" + it.Domain + "\x00" + it.Origin + "\x00" + it.Path + "\x00" + it.Name
	}
	for _, it := range a.Items {
		seen[key(it)] = true
	}
	for _, it := range b.Items {
		if !seen[key(it)] {
			a.Items = append(a.Items, it)
		}
	}
	hosts := map[string]bool{}
	for _, h := range a.ThirdPartyHosts {
		hosts[h.Host] = true
	}
	for _, h := range b.ThirdPartyHosts {
		if !hosts[h.Host] {
			a.ThirdPartyHosts = append(a.ThirdPartyHosts, h)
		}
	}
	a.BlockedCookies = append(a.BlockedCookies, b.BlockedCookies...)
	a.Notes = append(a.Notes, b.Notes...)
	a.FinishedAt = b.FinishedAt
	return a
}

// splitFlags splits a list of Chromium flags written on one line; a flag
// starts at each "--" after white space, so a flag's value may itself hold
// spaces and commas ("--host-resolver-rules=MAP * 127.0.0.1, EXCLUDE localhost").
func splitFlags(s string) []string {
	var out []string
	for _, f := range flagStart.Split(strings.TrimSpace(s), -1) {
		if f = strings.TrimSpace(f); f != "" {
			if !strings.HasPrefix(f, "--") {
				f = "--" + f
			}
			out = append(out, f)
		}
	}
	return out
}

var flagStart = regexp.MustCompile(`(?:^|\s+)--`)

// chromiumProblems returns what stops scan workers from starting Chromium,
// checked when the process starts rather than on every scan attempt (each
// would fail, go to the dead-letter list and fire alerts): a path that is
// not an executable file or, with no path, no browser on PATH; and a flag
// list that does not start with "--". pathName and flagsName name where
// the two came from.
func chromiumProblems(pathName, path, flagsName, flags string) []string {
	var problems []string
	if path == "" {
		if _, err := crawl.FindChromium(); err != nil {
			problems = append(problems, fmt.Sprintf("%v in %s", err, pathName))
		}
	} else if _, err := exec.LookPath(path); err != nil {
		problems = append(problems, fmt.Sprintf("%s %q: %s", pathName, path, lookPathReason(err)))
	}
	if f := strings.TrimSpace(flags); f != "" && !strings.HasPrefix(f, "--") {
		problems = append(problems, fmt.Sprintf("%s %q: each flag must start with --, e.g. --no-sandbox", flagsName, flags))
	}
	return problems
}

// lookPathReason says why exec.LookPath refused a browser, without the
// "exec: NAME:" the caller names already.
func lookPathReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, exec.ErrNotFound):
		return "not found on PATH"
	case errors.Is(err, fs.ErrPermission):
		return "not executable"
	}
	var e *exec.Error
	if errors.As(err, &e) {
		return e.Err.Error()
	}
	return err.Error()
}

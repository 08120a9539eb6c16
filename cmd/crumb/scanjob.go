package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/schedule"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
)

// scanOptions are how this process scans and classifies.
type scanOptions struct {
	chromium string   // Chromium binary; "" finds it on PATH
	cookieDB []string // extra cookie knowledge files
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

// errNoCrawler is what scans fail with until scanner/crawl is built into
// crumb (issue 4); the jobs are retried and then dead-lettered like any
// failing scan, and the alert rules report them.
var errNoCrawler = errors.New("scan: this build of crumb has no crawler yet (scanner/crawl, issue 4)")

// scanFunc returns the function the workers run for each job: decode the
// site's scan settings from the job and crawl the site.
func (o scanOptions) scanFunc(logger *slog.Logger) schedule.ScanFunc {
	return func(ctx context.Context, job jobqueue.Job) (*scanner.Report, error) {
		settings, err := schedule.DecodeSettings(job.Data)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", job.ID, err)
		}
		logger.Debug("scan settings", "site", job.Site, "start", settings.StartURLs, "max_pages", settings.MaxPages, "modes", settings.Modes)
		return nil, errNoCrawler
	}
}

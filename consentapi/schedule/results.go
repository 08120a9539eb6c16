package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/consentapi/webhook"
	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/scandiff"
)

// ResultStore is what Results keeps scans and revisions in.
type ResultStore interface {
	store.ScanStore
	store.SiteStore
}

// SiteResults are a site's settings for taking scans in.
type SiteResults struct {
	// Revision is the site's configured revision: the floor under any
	// revision raised at run time.
	Revision int
	// RaiseRevision raises the revision when a scan widens what the
	// site's visitors were asked: a refusable category or a provider of
	// its rows that the banner did not ask for (R26; see Results.Widens).
	RaiseRevision bool
	Keep          int // scans kept; default DefaultKeep
	WebhookURL    string
	WebhookSecret []byte
}

// Results takes finished scans in: it applies the site owner's overrides,
// compares the scan with the previous one (the diff, for the site owner),
// raises the site's revision when the banner built with the scan widens
// what visitors were asked (Widens), stores the scan with its diff,
// and tells the site owner by webhook. Its Done is a DoneFunc, its Failed a
// DeadFunc. Taking the same job in twice stores it once and raises the
// revision once; the webhook may then be sent again with the same event
// ID, for the receiver to drop.
type Results struct {
	Store ResultStore
	// Site returns a site's settings; false for a site no longer
	// configured, whose scan is dropped.
	Site func(ctx context.Context, id string) (SiteResults, bool)
	// Classify classifies the report's items again with the site's
	// overrides, which beat every other rule; nil leaves the report as the
	// scan classified it.
	Classify func(r *scanner.Report, overrides []store.Override) error
	Webhook  *webhook.Sender // nil: no webhooks
	// Widens returns what the banner built with run (not yet stored) as
	// the site's latest scan adds to what the banners of the site's
	// revision asked consent for (consentapi's Server.ScanRaise); nil or
	// empty for nothing. The revision is raised when it returns
	// something, never because of the diff with the previous scan alone:
	// a tracker that drops out of one scan and comes back in the next
	// was asked for all along. Nil leaves the raise to the service, which
	// judges the scan the same way when it builds the banner with it (the
	// stored scan then does not say it raised the revision).
	Widens func(ctx context.Context, run store.ScanRun) ([]string, error)
	// Changed is called after a scan is stored, e.g. to rebuild the banner
	// at once in this process; other replicas follow within a minute.
	Changed func(ctx context.Context, site string)
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default slog.Default()
}

// ScanEvent is the Data of a scan.completed webhook event.
type ScanEvent struct {
	Scan     store.ScanRun `json:"scan"` // without its report
	Findings Findings      `json:"findings"`
	// Changed is false when the scan found what the previous one did.
	Changed bool `json:"changed"`
}

// Done implements DoneFunc.
func (r *Results) Done(ctx context.Context, job jobqueue.Job, rep *scanner.Report) error {
	site, ok := r.Site(ctx, job.Site)
	if !ok {
		loggerOf(r.Logger).Warn("scan of a site no longer configured dropped", "site", job.Site, "job", job.ID)
		return nil
	}
	run, err := r.store(ctx, job, rep, site)
	if err != nil {
		return err
	}
	if run.RevisionRaised {
		// Idempotent: a retry raises to the same revision.
		if _, err := r.Store.RaiseSiteRevision(ctx, job.Site, run.Revision); err != nil {
			return fmt.Errorf("raise revision: %w", err)
		}
		loggerOf(r.Logger).Info("scan widened what the site's visitors were asked; revision raised", "site", job.Site, "revision", run.Revision)
	}
	if r.Changed != nil {
		r.Changed(ctx, job.Site)
	}
	r.notify(ctx, site, run)
	return nil
}

// store compares rep with the previous scan and stores it, or returns the
// run stored by an earlier try of the same job.
func (r *Results) store(ctx context.Context, job jobqueue.Job, rep *scanner.Report, site SiteResults) (store.ScanRun, error) {
	if stored, err := r.Store.Scan(ctx, job.Site, job.ID); err == nil {
		return stored, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return stored, fmt.Errorf("read scan: %w", err)
	}
	var overrides []store.Override
	if r.Classify != nil {
		var err error
		if overrides, err = r.Store.Overrides(ctx, job.Site); err != nil {
			return store.ScanRun{}, fmt.Errorf("read overrides: %w", err)
		}
		if err := r.Classify(rep, overrides); err != nil {
			return store.ScanRun{}, fmt.Errorf("classify: %w", err)
		}
	}
	var prevReport *scanner.Report
	prev, err := r.Store.LatestScan(ctx, job.Site)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return store.ScanRun{}, fmt.Errorf("read previous scan: %w", err)
	case prev.Report != nil && r.Classify != nil:
		// Compare like with like: the previous scan with the overrides in
		// force now. An override set since then already raised the
		// revision when it was set, if it widened anything; seen as a
		// change between the scans it would raise it a second time.
		p := *prev.Report
		p.Items = slices.Clone(p.Items)
		for i := range p.Items {
			if c := p.Items[i].Classification; c != nil {
				cc := *c
				p.Items[i].Classification = &cc
			}
		}
		if err := r.Classify(&p, overrides); err != nil {
			return store.ScanRun{}, fmt.Errorf("classify previous scan: %w", err)
		}
		prevReport = &p
	default:
		prevReport = prev.Report
	}
	diff := scandiff.Compare(prevReport, rep)
	rev, err := r.revision(ctx, job.Site, site)
	if err != nil {
		return store.ScanRun{}, err
	}
	f := Summarize(rep)
	run := store.ScanRun{
		ID: job.ID, Site: job.Site, Reason: job.Reason, ScheduledAt: job.ScheduledAt,
		FinishedAt: rep.FinishedAt, Previous: prev.ID, Diff: &diff, Revision: rev,
		Pages: len(rep.Pages), Items: len(rep.Items), Unclassified: f.Unclassified, PreConsent: f.PreConsent,
		Report: rep,
	}
	if run.FinishedAt.IsZero() {
		run.FinishedAt = nowOf(r.Now)
	}
	// Judged against what visitors were asked, not against the previous
	// scan (Widens).
	if site.RaiseRevision && r.Widens != nil {
		wider, err := r.Widens(ctx, run)
		if err != nil {
			return store.ScanRun{}, fmt.Errorf("judge the scan's scope: %w", err)
		}
		if len(wider) > 0 {
			run.Revision, run.RevisionRaised = rev+1, true
			loggerOf(r.Logger).Info("the scan widens what the site's visitors were asked", "site", job.Site, "scan", job.ID, "new", strings.Join(wider, ","))
		}
	}
	stored, _, err := r.Store.PutScan(ctx, run, cmpOr(site.Keep, DefaultKeep))
	if err != nil {
		return stored, fmt.Errorf("store scan: %w", err)
	}
	return stored, nil
}

// revision is the revision in force: the configured one or a higher one
// raised at run time.
func (r *Results) revision(ctx context.Context, id string, site SiteResults) (int, error) {
	rev, err := r.Store.SiteRevision(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return site.Revision, nil
	case err != nil:
		return 0, fmt.Errorf("read revision: %w", err)
	}
	return max(rev, site.Revision), nil
}

// notify sends the scan.completed event. A failed delivery is logged and
// counted by the sender; it never fails the scan.
func (r *Results) notify(ctx context.Context, site SiteResults, run store.ScanRun) {
	if r.Webhook == nil || site.WebhookURL == "" {
		return
	}
	ev := webhook.Event{
		ID: run.ID + ":" + webhook.TypeScanCompleted, Type: webhook.TypeScanCompleted, Site: run.Site,
		CreatedAt: run.FinishedAt.UTC(),
		Data:      ScanEvent{Scan: run.Summary(), Findings: Summarize(run.Report), Changed: run.Diff == nil || !run.Diff.Empty()},
	}
	if err := r.Webhook.Send(ctx, site.WebhookURL, site.WebhookSecret, ev); err != nil {
		loggerOf(r.Logger).Warn("scan webhook not delivered", "site", run.Site, "scan", run.ID, "err", err)
	}
}

// Failed implements DeadFunc: the site owner hears that a scan ran out of
// attempts.
func (r *Results) Failed(ctx context.Context, job jobqueue.Job, cause error) {
	site, ok := r.Site(ctx, job.Site)
	if !ok || r.Webhook == nil || site.WebhookURL == "" {
		return
	}
	ev := webhook.Event{
		ID: job.ID + ":" + webhook.TypeScanFailed, Type: webhook.TypeScanFailed, Site: job.Site,
		CreatedAt: nowOf(r.Now).UTC(),
		Data:      map[string]any{"job": job.ID, "scheduled_at": job.ScheduledAt, "error": cause.Error()},
	}
	if err := r.Webhook.Send(ctx, site.WebhookURL, site.WebhookSecret, ev); err != nil {
		loggerOf(r.Logger).Warn("scan webhook not delivered", "site", job.Site, "job", job.ID, "err", err)
	}
}

func cmpOr(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

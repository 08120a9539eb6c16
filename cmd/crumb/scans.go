package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/jobqueue/localqueue"
	"github.com/crumbhq/crumb/consentapi/jobqueue/redisqueue"
	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/schedule"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/consentapi/webhook"
)

// scanConfig is what a process needs to take part in scheduled scans.
type scanConfig struct {
	redisURL    string // "" for the embedded queue in dataDir
	dataDir     string
	workers     int  // scan workers in this process
	scheduler   bool // offer due scheduled runs to the queue
	name        string
	visibility  time.Duration
	scanTimeout time.Duration
	scan        scanOptions
}

// scans is the scan machinery of one process: the job queue, and the
// scheduler and workers that use it.
type scans struct {
	queue   jobqueue.Queue
	sched   *schedule.Scheduler
	workers []*schedule.Worker
	results *schedule.Results
	metrics *schedule.Metrics
	close   func() error
}

// newScans opens the queue and builds the scheduler and workers. st keeps
// the scan results; webhook secrets come from the environment variables
// the site config names.
func newScans(c scanConfig, sites *siteconfig.Config, st schedule.ResultStore, getenv func(string) string, reg prometheus.Registerer, logger *slog.Logger) (*scans, error) {
	secrets, err := webhookSecrets(sites, getenv)
	if err != nil {
		return nil, err
	}
	opts := jobqueue.Options{Visibility: c.visibility}
	ids := make([]string, 0, len(sites.Sites))
	for _, site := range sites.Sites {
		ids = append(ids, site.ID)
	}
	// Every site's counters start at 0, so that increase() sees the first
	// failed scan or delivery.
	s := &scans{metrics: schedule.NewMetrics(reg, ids...)}
	if c.redisURL != "" {
		client, err := redisstore.Dial(c.redisURL)
		if err != nil {
			return nil, usagef("%v", err)
		}
		q, err := redisqueue.New(client, "", opts)
		if err != nil {
			client.Close()
			return nil, err
		}
		s.queue, s.close = q, client.Close
	} else {
		if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		q, err := localqueue.Open(filepath.Join(c.dataDir, "jobs.db"), opts)
		if err != nil {
			return nil, err
		}
		s.queue, s.close = q, q.Close
	}
	reg.MustRegister(schedule.NewQueueCollector(s.queue, 2*time.Second))
	if c.scheduler {
		s.sched = &schedule.Scheduler{
			Sites:   func(ctx context.Context) ([]schedule.Site, error) { return scheduledSites(ctx, sites, st) },
			Enqueue: s.queue.Enqueue, Logger: logger, Metrics: s.metrics,
		}
	}
	classifyReport, err := c.scan.classifier()
	if err != nil {
		s.close()
		return nil, err
	}
	s.results = &schedule.Results{
		Store: st,
		Site: func(ctx context.Context, id string) (schedule.SiteResults, bool) {
			site, ok := sites.Site(id)
			if !ok {
				return schedule.SiteResults{}, false
			}
			eff, err := withStoredSettings(ctx, site, st)
			if err != nil {
				logger.Warn("read scan settings; using the config's", "site", id, "err", err)
			}
			return eff.ScanResults(secrets[id]), true
		},
		Classify: classifyReport,
		Webhook:  webhook.NewSender(reg, logger, slices.Sorted(maps.Keys(secrets))...),
		Logger:   logger,
	}
	scan := c.scan.scanFunc(logger)
	for i := range c.workers {
		s.workers = append(s.workers, &schedule.Worker{
			Queue: s.queue, Name: fmt.Sprintf("%s-%d", c.name, i), Scan: scan,
			Done: s.results.Done, Dead: s.results.Failed, Options: opts, Timeout: c.scanTimeout,
			Logger: logger, Metrics: s.metrics,
		})
	}
	return s, nil
}

// run runs the scheduler and the workers until ctx ends. changed is told
// of each stored scan (nil for none).
func (s *scans) run(ctx context.Context, changed func(ctx context.Context, site string)) {
	s.results.Changed = changed
	var wg sync.WaitGroup
	if s.sched != nil {
		wg.Go(func() { s.sched.Run(ctx) })
	}
	for _, w := range s.workers {
		wg.Go(func() { w.Run(ctx) })
	}
	wg.Wait()
}

// scheduledSites lists each configured site with its schedule and scan
// settings, as set in the config and overlaid through the admin API.
func scheduledSites(ctx context.Context, cfg *siteconfig.Config, st store.ScanStore) ([]schedule.Site, error) {
	out := make([]schedule.Site, 0, len(cfg.Sites))
	for i := range cfg.Sites {
		s, err := withStoredSettings(ctx, &cfg.Sites[i], st)
		if err != nil {
			return nil, err
		}
		out = append(out, schedule.Site{ID: s.ID, Schedule: s.ScanSchedule(), Settings: s.ScanSettings().Encode()})
	}
	return out, nil
}

// withStoredSettings returns the site with the scan settings stored for it
// through the admin API; on an error, the site as configured.
func withStoredSettings(ctx context.Context, site *siteconfig.Site, st store.ScanStore) (siteconfig.Site, error) {
	stored, err := st.ScanSettings(ctx, site.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return *site, nil
	case err != nil:
		return *site, err
	}
	return site.WithScanSettings(stored), nil
}

// webhookSecrets reads each site's webhook secret from the environment
// variable its config names; a missing one is a usage error.
func webhookSecrets(cfg *siteconfig.Config, getenv func(string) string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, s := range cfg.Sites {
		w := s.Scan.Webhook
		if w.URL == "" {
			continue
		}
		v := getenv(w.SecretEnv)
		if len(v) < 16 {
			return nil, usagef("site %s: set %s to the webhook signing secret (at least 16 characters)", s.ID, w.SecretEnv)
		}
		out[s.ID] = []byte(v)
	}
	return out, nil
}

// serveScans sets up the scans of crumb serve: on Redis the scheduler
// always runs (workers may be anywhere) with workers in-process if asked;
// on the embedded store only with in-process workers. It returns nil
// without workers on the embedded store.
func serveScans(redisURL, dataDir string, workers int, sites *siteconfig.Config, st store.Store, getenv func(string) string, reg prometheus.Registerer, logger *slog.Logger) (*scans, consentapi.ScanOptions, error) {
	if redisURL == "" && workers == 0 {
		return nil, consentapi.ScanOptions{}, nil
	}
	rs, ok := st.(schedule.ResultStore)
	if !ok {
		return nil, consentapi.ScanOptions{}, errors.New("the store keeps no scan results")
	}
	sc, err := newScans(scanConfig{
		redisURL: redisURL, dataDir: dataDir, workers: workers, scheduler: true,
		name: defaultWorkerName(), visibility: 5 * time.Minute, scanTimeout: 30 * time.Minute,
		scan: scanOptions{
			chromium: getenv("CRUMB_CHROMIUM"), chromiumFlags: splitFlags(getenv("CRUMB_CHROMIUM_FLAGS")),
			cookieDB: splitList(getenv("CRUMB_COOKIE_DB")),
		},
	}, sites, rs, getenv, reg, logger.With("process", "scans"))
	if err != nil {
		return nil, consentapi.ScanOptions{}, err
	}
	reg.MustRegister(schedule.NewReportCollector(func(ctx context.Context) ([]schedule.LatestScan, error) {
		return latestScans(ctx, sites, rs)
	}, 2*time.Second))
	return sc, consentapi.ScanOptions{Enqueue: sc.queue.Enqueue, Metrics: sc.metrics}, nil
}

// start runs the scans in the background; stop ends them and waits.
func (s *scans) start(ctx context.Context, changed func(ctx context.Context, site string)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		s.run(ctx, changed)
		close(done)
	}()
	return func() {
		cancel()
		<-done
	}
}

// latestScans reads the latest scan of every configured site.
func latestScans(ctx context.Context, sites *siteconfig.Config, st store.ScanStore) ([]schedule.LatestScan, error) {
	var out []schedule.LatestScan
	now := time.Now()
	for i, s := range sites.Sites {
		eff, _ := withStoredSettings(ctx, &sites.Sites[i], st)
		interval := eff.ScanSchedule().LongestGap(s.ID, now)
		run, err := st.LatestScan(ctx, s.ID)
		if errors.Is(err, store.ErrNotFound) {
			// A scheduled site never scanned is listed with no report, so
			// that CrumbScanNeverSucceeded can see it.
			if interval > 0 {
				out = append(out, schedule.LatestScan{Site: s.ID, Interval: interval})
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, schedule.LatestScan{Site: s.ID, FinishedAt: run.FinishedAt, Report: run.Report, Interval: interval})
	}
	return out, nil
}

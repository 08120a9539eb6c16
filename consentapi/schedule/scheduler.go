package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
)

// Site is what the scheduler needs to know about one site.
type Site struct {
	ID       string
	Schedule Schedule
	// Settings go into each job's Data (start URLs, page limit, consent
	// modes), so a worker on another machine needs no site config.
	Settings json.RawMessage
}

// Scheduler offers each site's scheduled runs to the job queue. Any number
// of replicas may run one each: they derive the same run id (RunID) for the
// same run, and the queue's Enqueue keeps one copy per id for the run's
// whole period, so each run is queued once. A run missed because no
// replica was up is offered when one comes back within the same period.
type Scheduler struct {
	// Sites returns the current sites; called on every tick, so config
	// changes apply without a restart.
	Sites func(ctx context.Context) ([]Site, error)
	// Enqueue is the queue's Enqueue (jobqueue.Queue.Enqueue).
	Enqueue func(ctx context.Context, job jobqueue.Job, dedup time.Duration) (bool, error)
	Now     func() time.Time // default time.Now
	Tick    time.Duration    // how often to look; default 1 minute
	Logger  *slog.Logger     // default slog.Default()
	Metrics *Metrics         // nil for none

	mu      sync.Mutex
	offered map[string]time.Time // site → latest run this replica offered
}

// minDedup is the shortest window a run id is remembered for; it covers
// clock differences between replicas.
const minDedup = time.Hour

// Check offers every due run once and returns how many the queue took (the
// others were already queued by another replica, or by this one earlier).
func (s *Scheduler) Check(ctx context.Context) (int, error) {
	sites, err := s.Sites(ctx)
	if err != nil {
		return 0, fmt.Errorf("list sites: %w", err)
	}
	now := s.now()
	added := 0
	var firstErr error
	for _, site := range sites {
		run := site.Schedule.Prev(site.ID, now)
		if run.IsZero() || s.already(site.ID, run) {
			continue
		}
		job := jobqueue.Job{
			ID: RunID(site.ID, run), Site: site.ID, Reason: jobqueue.ReasonSchedule,
			ScheduledAt: run, Data: site.Settings,
		}
		// Remember the id until the next run replaces it, so a late or
		// restarted replica cannot queue this run again.
		dedup := max(site.Schedule.Next(site.ID, run).Sub(run)+minDedup, minDedup)
		ok, err := s.Enqueue(ctx, job, dedup)
		if err != nil {
			s.logger().Warn("offer scheduled scan", "site", site.ID, "run", run, "err", err)
			if firstErr == nil {
				firstErr = fmt.Errorf("offer %s: %w", job.ID, err)
			}
			continue
		}
		s.remember(site.ID, run)
		if ok {
			added++
			s.Metrics.enqueued(site.ID, jobqueue.ReasonSchedule)
			s.logger().Info("scheduled scan queued", "site", site.ID, "run", run, "job", job.ID)
		}
	}
	return added, firstErr
}

// Run calls Check on every tick until ctx ends, then returns nil.
func (s *Scheduler) Run(ctx context.Context) error {
	tick := s.Tick
	if tick <= 0 {
		tick = time.Minute
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if _, err := s.Check(ctx); err != nil && ctx.Err() == nil {
			s.logger().Warn("scheduler check", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Scheduler) already(site string, run time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offered[site].Equal(run)
}

func (s *Scheduler) remember(site string, run time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.offered == nil {
		s.offered = map[string]time.Time{}
	}
	s.offered[site] = run
}

func (s *Scheduler) now() time.Time { return nowOf(s.Now) }

func (s *Scheduler) logger() *slog.Logger { return loggerOf(s.Logger) }

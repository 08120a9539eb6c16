package schedule_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/jobqueue/redisqueue"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/schedule"
)

// clock is a fake clock shared by the replicas of a test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// redisQueue opens a queue on its own client to srv, as a separate replica
// process would.
func redisQueue(tb testing.TB, srv *redistest.Server, opts jobqueue.Options) *redisqueue.Queue {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Network: srv.Network(), Addr: srv.Addr()})
	tb.Cleanup(func() { rdb.Close() })
	q, err := redisqueue.New(rdb, "", opts)
	if err != nil {
		tb.Fatal(err)
	}
	return q
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

var sites = []schedule.Site{
	{ID: "shop", Schedule: schedule.MustParse("weekly"), Settings: []byte(`{"pages":50}`)},
	{ID: "blog", Schedule: schedule.MustParse("0 3 * * *")},
	{ID: "news", Schedule: schedule.MustParse("6h")},
	{ID: "quiet", Schedule: schedule.MustParse("off")},
}

// TestReplicasQueueEachRunOnce: three scheduler replicas, each with its own
// Redis client, driven by one fake clock across 15 days in 10-minute steps,
// checking at the same moments; one replica restarts half-way with an empty
// memory. Every scheduled run is queued exactly once: the runs due in the
// window plus the one due at start (a replica that comes up catches up on
// the current period's run).
func TestReplicasQueueEachRunOnce(t *testing.T) {
	srv := redistest.Start(t)
	clk := &clock{now: at(t, from)}
	start := clk.Now()
	reg := prometheus.NewRegistry()
	metrics := schedule.NewMetrics(reg)
	newReplica := func() *schedule.Scheduler {
		q := redisQueue(t, srv, jobqueue.Options{})
		return &schedule.Scheduler{
			Sites:   func(context.Context) ([]schedule.Site, error) { return sites, nil },
			Enqueue: q.Enqueue,
			Now:     clk.Now, Logger: testLogger(t), Metrics: metrics,
		}
	}
	replicas := []*schedule.Scheduler{newReplica(), newReplica(), newReplica()}
	ctx := context.Background()
	queued := 0
	const steps = 15 * 24 * 6
	for step := range steps {
		if step == steps/2 {
			replicas[0] = newReplica()
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, r := range replicas {
			wg.Go(func() {
				n, err := r.Check(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				queued += n
				mu.Unlock()
			})
		}
		wg.Wait()
		clk.Add(10 * time.Minute)
	}
	end := clk.Now().Add(-10 * time.Minute)

	want := map[string]bool{}
	for _, s := range sites {
		for run := s.Schedule.Prev(s.ID, start); !run.IsZero() && !run.After(end); run = s.Schedule.Next(s.ID, run) {
			want[schedule.RunID(s.ID, run)] = true
		}
	}
	// 15 days: shop weekly 3 (2 + the one due at start), blog daily 15 (+1),
	// news every 6h 60 (+1).
	if len(want) < 75 || len(want) > 81 {
		t.Fatalf("test expects %d runs; the schedules are not what the test meant", len(want))
	}
	q := redisQueue(t, srv, jobqueue.Options{Poll: 10 * time.Millisecond})
	got := map[string]int{}
	for {
		rctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		d, err := q.Receive(rctx, "drain")
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[d.Job.ID]++
		if d.Job.Reason != jobqueue.ReasonSchedule || d.Job.ScheduledAt.IsZero() {
			t.Errorf("job %s: reason %q, scheduled at %s", d.Job.ID, d.Job.Reason, d.Job.ScheduledAt)
		}
		if d.Job.Site == "shop" && string(d.Job.Data) != `{"pages":50}` {
			t.Errorf("job %s lost the site's scan settings: %s", d.Job.ID, d.Job.Data)
		}
		if err := q.Ack(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for id := range want {
		if got[id] != 1 {
			t.Errorf("run %s queued %d times, want 1", id, got[id])
		}
	}
	for id, n := range got {
		if !want[id] {
			t.Errorf("unexpected run %s queued %d times", id, n)
		}
	}
	if queued != len(want) {
		t.Errorf("replicas report %d runs queued, want %d", queued, len(want))
	}
	if got := counter(t, reg, "crumb_scan_jobs_queued_total", map[string]string{"site": "blog", "reason": "schedule"}); got < 15 || got > 16 {
		t.Errorf("crumb_scan_jobs_queued_total{site=blog} = %v, want 15 or 16", got)
	}
}

// TestSchedulerReportsQueueErrors: a queue that fails is reported, and the
// run is offered again on the next check.
func TestSchedulerReportsQueueErrors(t *testing.T) {
	fail := true
	var offered []string
	s := &schedule.Scheduler{
		Sites: func(context.Context) ([]schedule.Site, error) { return sites[:1], nil },
		Enqueue: func(_ context.Context, j jobqueue.Job, _ time.Duration) (bool, error) {
			offered = append(offered, j.ID)
			if fail {
				return false, errors.New("redis down")
			}
			return true, nil
		},
		Now:    func() time.Time { return at(t, from) },
		Logger: testLogger(t),
	}
	if _, err := s.Check(context.Background()); err == nil {
		t.Fatal("Check with a failing queue: no error")
	}
	fail = false
	if n, err := s.Check(context.Background()); n != 1 || err != nil {
		t.Fatalf("Check after recovery = %d, %v; want 1, nil", n, err)
	}
	if n, _ := s.Check(context.Background()); n != 0 || len(offered) != 2 || offered[0] != offered[1] {
		t.Errorf("offers = %v, third check queued %d; want the same run offered twice, then not again", offered, n)
	}
}

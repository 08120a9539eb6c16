package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/jobqueue/localqueue"
	"github.com/crumbhq/crumb/consentapi/jobqueue/queuetest"
	"github.com/crumbhq/crumb/consentapi/jobqueue/redisqueue"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/schedule"
	"github.com/crumbhq/crumb/scanner"
)

// counter reads one series of a counter or gauge from reg; 0 if absent.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	v, _ := series(t, reg, name, labels, false)
	return v
}

// series finds the series of name whose labels include labels (exactly
// labels, if exact) and returns its value and whether it exists.
func series(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string, exact bool) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if exact && len(got) != len(labels) {
				continue
			}
			for k, v := range labels {
				if got[k] != v {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue(), true
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), true
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
			return 0, true
		}
	}
	return 0, false
}

var fastOpts = jobqueue.Options{Visibility: 600 * time.Millisecond, RetryBackoff: 20 * time.Millisecond, Poll: 20 * time.Millisecond}

// completions counts DoneFunc calls per job.
type completions struct {
	mu   sync.Mutex
	n    map[string]int
	done chan struct{}
}

func newCompletions() *completions {
	return &completions{n: map[string]int{}, done: make(chan struct{}, 100)}
}

func (c *completions) Done(_ context.Context, job jobqueue.Job, r *scanner.Report) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[job.ID]++
	c.done <- struct{}{}
	return nil
}

func report(pages int) *scanner.Report {
	r := &scanner.Report{SchemaVersion: scanner.SchemaVersion}
	for i := range pages {
		r.Pages = append(r.Pages, scanner.Page{URL: fmt.Sprintf("https://shop.test/%d", i), Mode: scanner.ModeNone})
	}
	return r
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestWorkerKilledMidScan: two workers on one Redis queue, each on its own
// client; the one that takes the job is killed mid-scan (its connection
// drops, then it stops: its lease is no longer extended and it cannot
// release the job); the other takes the job over after the visibility
// timeout and completes it, exactly once.
func TestWorkerKilledMidScan(t *testing.T) {
	srv := redistest.Start(t)
	reg := prometheus.NewRegistry()
	metrics := schedule.NewMetrics(reg)
	done := newCompletions()
	started := make(chan struct{}, 1)

	victimRDB := redis.NewClient(&redis.Options{Network: srv.Network(), Addr: srv.Addr()})
	victimQueue, err := redisqueue.New(victimRDB, "", fastOpts)
	if err != nil {
		t.Fatal(err)
	}
	victim := &schedule.Worker{
		Queue: victimQueue, Name: "victim", Options: fastOpts, Logger: testLogger(t), Metrics: metrics,
		Scan: func(ctx context.Context, job jobqueue.Job) (*scanner.Report, error) {
			started <- struct{}{}
			<-ctx.Done() // a scan that is still going when the worker dies
			return nil, ctx.Err()
		},
		Done: done.Done,
	}
	survivor := &schedule.Worker{
		Queue: redisQueue(t, srv, fastOpts), Name: "survivor", Options: fastOpts, Logger: testLogger(t), Metrics: metrics,
		Scan: func(ctx context.Context, job jobqueue.Job) (*scanner.Report, error) { return report(3), nil },
		Done: done.Done,
	}
	queuetest.MustEnqueue(t, victim.Queue, queuetest.Job("shop", "shop@1"))

	victimCtx, kill := context.WithCancel(context.Background())
	victimExited := make(chan struct{})
	go func() { victim.Run(victimCtx); close(victimExited) }()
	waitFor(t, started, "the victim to start scanning")

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	survivorExited := make(chan struct{})
	go func() { survivor.Run(ctx); close(survivorExited) }()
	// While the victim is alive and extending its lease, the survivor
	// must not get the job.
	time.Sleep(3 * fastOpts.Visibility)
	if n := len(done.done); n != 0 {
		t.Fatalf("job completed %d times while its first worker was alive", n)
	}
	victimRDB.Close()
	kill()
	waitFor(t, victimExited, "the victim to exit")
	waitFor(t, done.done, "the survivor to complete the job")

	// Give a duplicate every chance to show up, then look.
	time.Sleep(3 * fastOpts.Visibility)
	stop()
	waitFor(t, survivorExited, "the survivor to exit")
	if got := done.n["shop@1"]; got != 1 {
		t.Errorf("job completed %d times, want exactly 1", got)
	}
	st, err := survivor.Queue.Stats(context.Background())
	if err != nil || st.Depth != 0 || st.Dead != 0 {
		t.Errorf("queue after completion = %+v, %v; want empty", st, err)
	}
	for outcome, want := range map[string]float64{"ok": 1, "abandoned": 1, "failed": 0} {
		if got := counter(t, reg, "crumb_scans_total", map[string]string{"site": "shop", "outcome": outcome}); got != want {
			t.Errorf("crumb_scans_total{outcome=%s} = %v, want %v", outcome, got, want)
		}
	}
	if got := counter(t, reg, "crumb_scan_pages_total", map[string]string{"site": "shop"}); got != 3 {
		t.Errorf("crumb_scan_pages_total = %v, want 3", got)
	}
}

// receivedQueue is a real queue that also passes each delivery it makes
// to got, so a test sees the attempt a worker received.
type receivedQueue struct {
	jobqueue.Queue
	got chan jobqueue.Delivery
}

func (q receivedQueue) Receive(ctx context.Context, consumer string) (jobqueue.Delivery, error) {
	d, err := q.Queue.Receive(ctx, consumer)
	if err == nil {
		q.got <- d
	}
	return d, err
}

// TestWorkerStoppedMidScanReleases: a worker stopped mid-scan (a rolling
// deploy) releases its job, so another worker takes it within about one
// poll interval instead of after the visibility timeout (30s here, the
// poll interval the production default of 1s), as the same attempt; the
// job runs to completion exactly once. On Redis (two clients, as two
// machines) and on the embedded queue (two workers of one process).
func TestWorkerStoppedMidScanReleases(t *testing.T) {
	opts := jobqueue.Options{Visibility: 30 * time.Second}
	tests := []struct {
		name string
		open func(t *testing.T) (victim, survivor jobqueue.Queue)
	}{
		{"redis", func(t *testing.T) (jobqueue.Queue, jobqueue.Queue) {
			srv := redistest.Start(t)
			return redisQueue(t, srv, opts), redisQueue(t, srv, opts)
		}},
		{"local", func(t *testing.T) (jobqueue.Queue, jobqueue.Queue) {
			q, err := localqueue.Open(filepath.Join(t.TempDir(), "jobs.db"), opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { q.Close() })
			return q, q
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vq, sq := tt.open(t)
			reg := prometheus.NewRegistry()
			metrics := schedule.NewMetrics(reg)
			done := newCompletions()
			started := make(chan struct{}, 1)
			victimGot := receivedQueue{vq, make(chan jobqueue.Delivery, 10)}
			survivorGot := receivedQueue{sq, make(chan jobqueue.Delivery, 10)}
			victim := &schedule.Worker{
				Queue: victimGot, Name: "victim", Options: opts, Logger: testLogger(t), Metrics: metrics,
				Scan: func(ctx context.Context, job jobqueue.Job) (*scanner.Report, error) {
					started <- struct{}{}
					<-ctx.Done() // still scanning when the worker is told to stop
					return nil, ctx.Err()
				},
				Done: done.Done,
			}
			survivor := &schedule.Worker{
				Queue: survivorGot, Name: "survivor", Options: opts, Logger: testLogger(t), Metrics: metrics,
				Scan: func(ctx context.Context, job jobqueue.Job) (*scanner.Report, error) { return report(2), nil },
				Done: done.Done,
			}
			queuetest.MustEnqueue(t, vq, queuetest.Job("shop", "shop@1"))

			victimCtx, stopVictim := context.WithCancel(context.Background())
			victimExited := make(chan struct{})
			go func() { victim.Run(victimCtx); close(victimExited) }()
			waitFor(t, started, "the victim to start scanning")
			first := <-victimGot.got

			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			survivorExited := make(chan struct{})
			go func() { survivor.Run(ctx); close(survivorExited) }()
			time.Sleep(100 * time.Millisecond) // the survivor is waiting on the queue

			stoppedAt := time.Now()
			stopVictim()
			waitFor(t, victimExited, "the victim to exit")
			exited := time.Since(stoppedAt)
			var second jobqueue.Delivery
			select {
			case second = <-survivorGot.got:
			case <-time.After(opts.Visibility / 3):
				t.Fatalf("no other worker took the job within %s of the victim stopping (visibility %s)", opts.Visibility/3, opts.Visibility)
			}
			moved := time.Since(stoppedAt)
			t.Logf("victim exited %s after stop; job moved to the survivor %s after stop (visibility %s)",
				exited.Round(time.Millisecond), moved.Round(time.Millisecond), opts.Visibility)
			if second.Job.ID != first.Job.ID || second.Consumer != "survivor" || second.Attempt != first.Attempt || first.Attempt != 1 {
				t.Errorf("survivor got %s attempt %d (%s), victim had attempt %d; want the same job, attempt 1 both times",
					second.Job.ID, second.Attempt, second.Consumer, first.Attempt)
			}
			waitFor(t, done.done, "the survivor to complete the job")
			stop()
			waitFor(t, survivorExited, "the survivor to exit")
			if got := done.n["shop@1"]; got != 1 {
				t.Errorf("job completed %d times, want exactly 1", got)
			}
			st, err := sq.Stats(context.Background())
			if err != nil || st.Depth != 0 || st.Dead != 0 {
				t.Errorf("queue after completion = %+v, %v; want empty", st, err)
			}
			for outcome, want := range map[string]float64{"ok": 1, "abandoned": 1, "failed": 0, "dead": 0} {
				if got := counter(t, reg, "crumb_scans_total", map[string]string{"site": "shop", "outcome": outcome}); got != want {
					t.Errorf("crumb_scans_total{outcome=%s} = %v, want %v", outcome, got, want)
				}
			}
		})
	}
}

// TestWorkerPoisonedJob: a job whose scan always fails is retried with
// backoff and ends in the dead-letter stream after 5 attempts; the worker
// reports it once through Dead, and a healthy job behind it still runs.
func TestWorkerPoisonedJob(t *testing.T) {
	srv := redistest.Start(t)
	reg := prometheus.NewRegistry()
	done := newCompletions()
	var (
		mu       sync.Mutex
		attempts int
		deadJobs []string
	)
	deadCalled := make(chan struct{}, 10)
	w := &schedule.Worker{
		Queue: redisQueue(t, srv, fastOpts), Name: "w1", Options: fastOpts, Logger: testLogger(t), Metrics: schedule.NewMetrics(reg),
		Scan: func(ctx context.Context, job jobqueue.Job) (*scanner.Report, error) {
			if job.ID == "poison" {
				mu.Lock()
				attempts++
				mu.Unlock()
				return nil, errors.New("navigate: net::ERR_NAME_NOT_RESOLVED")
			}
			return report(1), nil
		},
		Done: done.Done,
		Dead: func(ctx context.Context, job jobqueue.Job, err error) {
			mu.Lock()
			deadJobs = append(deadJobs, job.ID+": "+err.Error())
			mu.Unlock()
			deadCalled <- struct{}{}
		},
	}
	queuetest.MustEnqueue(t, w.Queue, queuetest.Job("shop", "poison"))
	queuetest.MustEnqueue(t, w.Queue, queuetest.Job("blog", "healthy"))
	ctx, stop := context.WithCancel(context.Background())
	exited := make(chan struct{})
	go func() { w.Run(ctx); close(exited) }()
	waitFor(t, deadCalled, "the poisoned job to die")
	waitFor(t, done.done, "the healthy job")
	stop()
	<-exited

	dead, err := w.Queue.Dead(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Job.ID != "poison" || dead[0].Attempts != 5 || dead[0].Error != "navigate: net::ERR_NAME_NOT_RESOLVED" {
		t.Fatalf("dead letters = %+v, want poison after 5 attempts", dead)
	}
	if attempts != 5 || len(deadJobs) != 1 || done.n["healthy"] != 1 {
		t.Errorf("scanned poison %d times, Dead called %v, healthy done %d; want 5, once, 1", attempts, deadJobs, done.n["healthy"])
	}
	for outcome, want := range map[string]float64{"failed": 4, "dead": 1} {
		if got := counter(t, reg, "crumb_scans_total", map[string]string{"site": "shop", "outcome": outcome}); got != want {
			t.Errorf("crumb_scans_total{site=shop,outcome=%s} = %v, want %v", outcome, got, want)
		}
	}
}

// TestWorkerLongScan: a scan that takes several visibility timeouts keeps
// its lease by extending it; a second worker never gets the job.
func TestWorkerLongScan(t *testing.T) {
	srv := redistest.Start(t)
	done := newCompletions()
	newWorker := func(name string) *schedule.Worker {
		return &schedule.Worker{
			Queue: redisQueue(t, srv, fastOpts), Name: name, Options: fastOpts, Logger: testLogger(t),
			Scan: func(ctx context.Context, job jobqueue.Job) (*scanner.Report, error) {
				select {
				case <-time.After(4 * fastOpts.Visibility):
					return report(2), nil
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			},
			Done: done.Done,
		}
	}
	a, b := newWorker("a"), newWorker("b")
	queuetest.MustEnqueue(t, a.Queue, queuetest.Job("shop", "long"))
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.Run(ctx) })
	wg.Go(func() { b.Run(ctx) })
	waitFor(t, done.done, "the long scan")
	time.Sleep(2 * fastOpts.Visibility)
	stop()
	wg.Wait()
	if got := done.n["long"]; got != 1 {
		t.Errorf("long scan completed %d times, want 1", got)
	}
	st, err := a.Queue.Stats(context.Background())
	if err != nil || st.Depth != 0 {
		t.Errorf("queue = %+v, %v; want empty", st, err)
	}
}

// TestQueueCollector: the queue's state is exported on each scrape.
func TestQueueCollector(t *testing.T) {
	srv := redistest.Start(t)
	q := redisQueue(t, srv, fastOpts)
	reg := prometheus.NewRegistry()
	reg.MustRegister(schedule.NewQueueCollector(q, time.Second))
	queuetest.MustEnqueue(t, q, queuetest.Job("shop", "a"))
	queuetest.MustEnqueue(t, q, queuetest.Job("shop", "b"))
	queuetest.MustReceive(t, q, "w1")
	time.Sleep(20 * time.Millisecond)
	if got := counter(t, reg, "crumb_scan_queue_depth", nil); got != 2 {
		t.Errorf("depth = %v, want 2", got)
	}
	if got := counter(t, reg, "crumb_scan_queue_in_flight", nil); got != 1 {
		t.Errorf("in flight = %v, want 1", got)
	}
	if got := counter(t, reg, "crumb_scan_queue_oldest_job_age_seconds", nil); got <= 0 {
		t.Errorf("oldest age = %v, want > 0", got)
	}
}

package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/jobqueue/queuetest"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/schedule"
	"github.com/crumbhq/crumb/scanner"
)

// counter reads one series of a counter or gauge from reg; 0 if absent.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
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
			for k, v := range labels {
				if got[k] != v {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
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
// client; the one that takes the job is killed mid-scan (its context ends,
// its lease is no longer extended); the other takes the job over after the
// visibility timeout and completes it, exactly once.
func TestWorkerKilledMidScan(t *testing.T) {
	srv := redistest.Start(t)
	reg := prometheus.NewRegistry()
	metrics := schedule.NewMetrics(reg)
	done := newCompletions()
	started := make(chan struct{}, 1)

	victim := &schedule.Worker{
		Queue: redisQueue(t, srv, fastOpts), Name: "victim", Options: fastOpts, Logger: testLogger(t), Metrics: metrics,
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

package queuetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
)

// testReclaim: a worker takes a job and dies (never extends or acks); a
// second worker waiting on the queue gets the job once the lease runs out,
// and the first worker's late ack is refused.
func testReclaim(t *testing.T, open Open) {
	q := open(t, fast)
	ctx := context.Background()
	MustEnqueue(t, q, Job("shop", "shop@1"))
	dead := MustReceive(t, q, "dead-worker")
	d := MustReceive(t, q, "live-worker")
	if d.Job.ID != "shop@1" || d.Attempt != 2 || d.Consumer != "live-worker" {
		t.Fatalf("reclaimed delivery = %+v, want shop@1 attempt 2 for live-worker", d)
	}
	if err := q.Ack(ctx, dead); !errors.Is(err, jobqueue.ErrLeaseLost) {
		t.Errorf("Ack by the worker that lost its lease = %v, want ErrLeaseLost", err)
	}
	if err := q.Extend(ctx, dead); !errors.Is(err, jobqueue.ErrLeaseLost) {
		t.Errorf("Extend by the worker that lost its lease = %v, want ErrLeaseLost", err)
	}
	if err := q.Fail(ctx, dead, errors.New("late")); !errors.Is(err, jobqueue.ErrLeaseLost) {
		t.Errorf("Fail by the worker that lost its lease = %v, want ErrLeaseLost", err)
	}
	if err := q.Release(ctx, dead); !errors.Is(err, jobqueue.ErrLeaseLost) {
		t.Errorf("Release by the worker that lost its lease = %v, want ErrLeaseLost", err)
	}
	if err := q.Ack(ctx, d); err != nil {
		t.Fatalf("Ack by the new owner: %v", err)
	}
	mustBeEmpty(t, q, 2*fast.Visibility)
}

// testExtend: a worker that keeps extending keeps its job past the
// visibility timeout. The lease is longer than the suite's fast one: an
// extend every tenth of it must never be late by a whole lease, even on a
// machine busy with the rest of the tests (400 ms was once, under -race).
func testExtend(t *testing.T, open Open) {
	opts := fast
	opts.Visibility = 1500 * time.Millisecond
	q := open(t, opts)
	ctx := context.Background()
	MustEnqueue(t, q, Job("shop", "shop@1"))
	d := MustReceive(t, q, "w1")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(opts.Visibility / 10)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if err := q.Extend(ctx, d); err != nil {
					t.Errorf("Extend: %v", err)
					return
				}
			}
		}
	})
	mustBeEmpty(t, q, 2*opts.Visibility)
	close(stop)
	wg.Wait()
	if err := q.Ack(ctx, d); err != nil {
		t.Fatalf("Ack after extending: %v", err)
	}
}

// testFailDead: a job that fails on every attempt is retried after a
// backoff and lands in the dead-letter list after MaxAttempts, with the
// last error.
func testFailDead(t *testing.T, open Open) {
	q := open(t, fast)
	ctx := context.Background()
	MustEnqueue(t, q, Job("shop", "poison"))
	MustEnqueue(t, q, Job("shop", "healthy"))
	healthy := 0
	for attempt := 1; attempt <= jobqueue.DefaultMaxAttempts; {
		d := MustReceive(t, q, "w1")
		if d.Job.ID == "healthy" {
			healthy++
			if err := q.Ack(ctx, d); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if d.Attempt != attempt {
			t.Fatalf("poison delivery attempt = %d, want %d", d.Attempt, attempt)
		}
		if err := q.Fail(ctx, d, fmt.Errorf("scan failed on attempt %d", attempt)); err != nil {
			t.Fatalf("Fail: %v", err)
		}
		attempt++
	}
	if healthy != 1 {
		t.Errorf("healthy job delivered %d times, want 1", healthy)
	}
	mustBeEmpty(t, q, 2*fast.Visibility)
	dead, err := q.Dead(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Job.ID != "poison" || dead[0].Attempts != 5 || dead[0].Error != "scan failed on attempt 5" {
		t.Fatalf("Dead = %+v, want poison after 5 attempts with the last error", dead)
	}
	if dead[0].DeadAt.IsZero() || string(dead[0].Job.Data) != `{"pages":5}` {
		t.Errorf("dead job lost its time or data: %+v", dead[0])
	}
	st, err := q.Stats(ctx)
	if err != nil || st.Depth != 0 || st.Dead != 1 {
		t.Errorf("Stats = %+v, %v; want depth 0, dead 1", st, err)
	}
}

// testAbandonDead: a job whose workers all die mid-job is dead after
// MaxAttempts deliveries too.
func testAbandonDead(t *testing.T, open Open) {
	q := open(t, fast)
	ctx := context.Background()
	MustEnqueue(t, q, Job("shop", "crasher"))
	for attempt := 1; attempt <= jobqueue.DefaultMaxAttempts; attempt++ {
		d := MustReceive(t, q, fmt.Sprintf("w%d", attempt))
		if d.Attempt != attempt {
			t.Fatalf("delivery %d has attempt %d", attempt, d.Attempt)
		}
	}
	mustBeEmpty(t, q, 3*fast.Visibility)
	dead, err := q.Dead(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].Job.ID != "crasher" || dead[0].Attempts != 5 || dead[0].Error == "" {
		t.Fatalf("Dead = %+v, %v; want crasher after 5 attempts with a reason", dead, err)
	}
}

func testStats(t *testing.T, open Open) {
	q := open(t, fast)
	ctx := context.Background()
	st, err := q.Stats(ctx)
	if err != nil || st != (jobqueue.Stats{}) {
		t.Fatalf("empty Stats = %+v, %v; want zero", st, err)
	}
	MustEnqueue(t, q, Job("a", "a@1"))
	time.Sleep(30 * time.Millisecond)
	MustEnqueue(t, q, Job("b", "b@1"))
	d := MustReceive(t, q, "w1")
	st, err = q.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Depth != 2 || st.InFlight != 1 || st.Dead != 0 || st.OldestAge < 30*time.Millisecond {
		t.Errorf("Stats = %+v; want depth 2, in flight 1, oldest ≥ 30ms", st)
	}
	if err := q.Ack(ctx, d); err != nil {
		t.Fatal(err)
	}
	st, err = q.Stats(ctx)
	if err != nil || st.Depth != 1 || st.InFlight != 0 {
		t.Errorf("Stats after Ack = %+v, %v; want depth 1, in flight 0", st, err)
	}
}

// testManyWorkers: four workers drain fifty jobs; each job is acked exactly
// once.
func testManyWorkers(t *testing.T, open Open) {
	q := open(t, fast)
	const jobs = 50
	for i := range jobs {
		MustEnqueue(t, q, Job("shop", fmt.Sprintf("job-%02d", i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var (
		mu   sync.Mutex
		done = map[string]int{}
		wg   sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for {
				mu.Lock()
				n := len(done)
				mu.Unlock()
				if n == jobs {
					return
				}
				rctx, rcancel := context.WithTimeout(ctx, 2*fast.Visibility)
				d, err := q.Receive(rctx, fmt.Sprintf("w%d", w))
				rcancel()
				if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
					continue
				}
				if err != nil {
					t.Errorf("Receive: %v", err)
					return
				}
				if err := q.Ack(ctx, d); err != nil {
					t.Errorf("Ack: %v", err)
					return
				}
				mu.Lock()
				done[d.Job.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(done) != jobs {
		t.Fatalf("%d jobs done, want %d", len(done), jobs)
	}
	for id, n := range done {
		if n != 1 {
			t.Errorf("job %s acked %d times", id, n)
		}
	}
}

// testRelease: a worker that stops mid-job releases it; another worker
// receives it at once, long before the visibility timeout, as the same
// attempt, even on the last attempt; the releasing delivery is void.
func testRelease(t *testing.T, open Open) {
	opts := jobqueue.Options{Visibility: time.Minute, RetryBackoff: 50 * time.Millisecond, Poll: 50 * time.Millisecond, MaxAttempts: 2}
	q := open(t, opts)
	ctx := context.Background()
	job := Job("shop", "shop@1")
	MustEnqueue(t, q, job)
	// within receives for consumer, failing unless a job comes well before
	// the visibility timeout: only a release can make it come that soon.
	within := func(consumer string) jobqueue.Delivery {
		t.Helper()
		rctx, cancel := context.WithTimeout(ctx, opts.Visibility/4)
		defer cancel()
		start := time.Now()
		d, err := q.Receive(rctx, consumer)
		if err != nil {
			t.Fatalf("Receive(%s) after a release: %v (visibility %s)", consumer, err, opts.Visibility)
		}
		t.Logf("%s received %s attempt %d after %s", consumer, d.Job.ID, d.Attempt, time.Since(start).Round(time.Millisecond))
		return d
	}

	leaving := MustReceive(t, q, "leaving")
	if err := q.Release(ctx, leaving); err != nil {
		t.Fatalf("Release: %v", err)
	}
	st, err := q.Stats(ctx)
	if err != nil || st.Depth != 1 || st.InFlight != 0 {
		t.Errorf("Stats after Release = %+v, %v; want depth 1, in flight 0", st, err)
	}
	if err := q.Ack(ctx, leaving); !errors.Is(err, jobqueue.ErrLeaseLost) {
		t.Errorf("Ack after Release = %v, want ErrLeaseLost", err)
	}
	if err := q.Extend(ctx, leaving); !errors.Is(err, jobqueue.ErrLeaseLost) {
		t.Errorf("Extend after Release = %v, want ErrLeaseLost", err)
	}
	if err := q.Fail(ctx, leaving, errors.New("late")); !errors.Is(err, jobqueue.ErrLeaseLost) {
		t.Errorf("Fail after Release = %v, want ErrLeaseLost", err)
	}
	if err := q.Release(ctx, leaving); !errors.Is(err, jobqueue.ErrLeaseLost) {
		t.Errorf("second Release = %v, want ErrLeaseLost", err)
	}
	if _, err := q.Receive(ctx, jobqueue.Released); err == nil {
		t.Errorf("Receive as %q: no error", jobqueue.Released)
	}

	staying := within("staying")
	if staying.Job.ID != job.ID || string(staying.Job.Data) != string(job.Data) || staying.Attempt != 1 || staying.Consumer != "staying" {
		t.Fatalf("delivery after Release = %+v, want %s attempt 1 for staying", staying, job.ID)
	}
	st, err = q.Stats(ctx)
	if err != nil || st.Depth != 1 || st.InFlight != 1 {
		t.Errorf("Stats after the job was taken again = %+v, %v; want depth 1, in flight 1", st, err)
	}
	// A failure counts; a release on the last attempt does not.
	if err := q.Fail(ctx, staying, errors.New("first failure")); err != nil {
		t.Fatalf("Fail: %v", err)
	}
	last := within("staying")
	if last.Attempt != 2 {
		t.Fatalf("delivery after Fail has attempt %d, want 2", last.Attempt)
	}
	if err := q.Release(ctx, last); err != nil {
		t.Fatalf("Release on the last attempt: %v", err)
	}
	again := within("third")
	if again.Job.ID != job.ID || again.Attempt != 2 {
		t.Fatalf("delivery after releasing the last attempt = %s attempt %d, want %s attempt 2", again.Job.ID, again.Attempt, job.ID)
	}
	if dead, err := q.Dead(ctx, 10); err != nil || len(dead) != 0 {
		t.Errorf("Dead after releasing the last attempt = %+v, %v; want none", dead, err)
	}
	if err := q.Fail(ctx, again, errors.New("second failure")); err != nil {
		t.Fatalf("Fail: %v", err)
	}
	dead, err := q.Dead(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].Attempts != 2 || dead[0].Error != "second failure" {
		t.Errorf("Dead = %+v, %v; want %s after 2 attempts", dead, err, job.ID)
	}
}

// testPing: an open queue answers.
func testPing(t *testing.T, open Open) {
	q := open(t, fast)
	if err := q.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

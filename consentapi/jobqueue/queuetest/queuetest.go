// Package queuetest is the conformance suite every jobqueue.Queue passes:
// the Redis Streams queue and the embedded one run the same tests, on real
// backends.
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

// Open returns a fresh, empty queue with the given options. It registers
// its own cleanup.
type Open func(tb testing.TB, opts jobqueue.Options) jobqueue.Queue

// fast are options that let lease expiry happen within a test.
var fast = jobqueue.Options{
	Visibility:   400 * time.Millisecond,
	RetryBackoff: 50 * time.Millisecond,
	Poll:         50 * time.Millisecond,
}

// wait bounds every blocking call of the suite: far above any expected
// wait, so a pass never depends on timing, and a hang fails.
const wait = 20 * time.Second

// Run runs the suite against the queues open returns.
func Run(t *testing.T, open Open) {
	t.Run("EnqueueReceiveAck", func(t *testing.T) { testEnqueueReceiveAck(t, open) })
	t.Run("Order", func(t *testing.T) { testOrder(t, open) })
	t.Run("Dedup", func(t *testing.T) { testDedup(t, open) })
	t.Run("DedupConcurrent", func(t *testing.T) { testDedupConcurrent(t, open) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, open) })
	t.Run("ReceiveCancelled", func(t *testing.T) { testReceiveCancelled(t, open) })
	t.Run("ReclaimAfterVisibility", func(t *testing.T) { testReclaim(t, open) })
	t.Run("ExtendKeepsLease", func(t *testing.T) { testExtend(t, open) })
	t.Run("FailRetriesThenDead", func(t *testing.T) { testFailDead(t, open) })
	t.Run("DeadWorkersThenDead", func(t *testing.T) { testAbandonDead(t, open) })
	t.Run("ReleaseAtOnceSameAttempt", func(t *testing.T) { testRelease(t, open) })
	t.Run("Ping", func(t *testing.T) { testPing(t, open) })
	t.Run("Stats", func(t *testing.T) { testStats(t, open) })
	t.Run("ManyWorkersEachJobOnce", func(t *testing.T) { testManyWorkers(t, open) })
}

// Job returns a valid job named id for site.
func Job(site, id string) jobqueue.Job {
	return jobqueue.Job{ID: id, Site: site, Reason: jobqueue.ReasonManual, ScheduledAt: time.Unix(1795000000, 0).UTC(), Data: []byte(`{"pages":5}`)}
}

// MustEnqueue enqueues job with a one-hour dedup window and fails the test
// unless it was added.
func MustEnqueue(tb testing.TB, q jobqueue.Queue, job jobqueue.Job) {
	tb.Helper()
	ok, err := q.Enqueue(context.Background(), job, time.Hour)
	if err != nil || !ok {
		tb.Fatalf("Enqueue(%s) = %v, %v; want true, nil", job.ID, ok, err)
	}
}

// MustReceive receives one job for consumer or fails the test.
func MustReceive(tb testing.TB, q jobqueue.Queue, consumer string) jobqueue.Delivery {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	d, err := q.Receive(ctx, consumer)
	if err != nil {
		tb.Fatalf("Receive(%s): %v", consumer, err)
	}
	return d
}

// mustBeEmpty checks that nothing can be received within d.
func mustBeEmpty(tb testing.TB, q jobqueue.Queue, d time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if got, err := q.Receive(ctx, "probe"); !errors.Is(err, context.DeadlineExceeded) {
		tb.Fatalf("Receive on a drained queue = %+v, %v; want context.DeadlineExceeded", got, err)
	}
}

func testEnqueueReceiveAck(t *testing.T, open Open) {
	q := open(t, fast)
	job := Job("shop", "shop@1")
	MustEnqueue(t, q, job)
	d := MustReceive(t, q, "w1")
	if d.Job.ID != job.ID || d.Job.Site != job.Site || string(d.Job.Data) != string(job.Data) || !d.Job.ScheduledAt.Equal(job.ScheduledAt) {
		t.Errorf("received %+v, want %+v", d.Job, job)
	}
	if d.Attempt != 1 || d.Consumer != "w1" {
		t.Errorf("attempt=%d consumer=%q, want 1, w1", d.Attempt, d.Consumer)
	}
	if age := time.Since(d.EnqueuedAt); age < 0 || age > time.Minute {
		t.Errorf("EnqueuedAt = %v, want about now", d.EnqueuedAt)
	}
	if err := q.Ack(context.Background(), d); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if err := q.Ack(context.Background(), d); !errors.Is(err, jobqueue.ErrLeaseLost) {
		t.Errorf("second Ack = %v, want ErrLeaseLost", err)
	}
	// Even after the visibility timeout an acked job never comes back.
	mustBeEmpty(t, q, 2*fast.Visibility)
}

func testOrder(t *testing.T, open Open) {
	q := open(t, fast)
	for i := range 3 {
		MustEnqueue(t, q, Job("shop", fmt.Sprintf("shop@%d", i)))
	}
	for i := range 3 {
		d := MustReceive(t, q, "w1")
		if want := fmt.Sprintf("shop@%d", i); d.Job.ID != want {
			t.Errorf("job %d = %s, want %s", i, d.Job.ID, want)
		}
		if err := q.Ack(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
}

func testDedup(t *testing.T, open Open) {
	q := open(t, fast)
	ctx := context.Background()
	MustEnqueue(t, q, Job("shop", "shop@1"))
	if ok, err := q.Enqueue(ctx, Job("shop", "shop@1"), time.Hour); ok || err != nil {
		t.Errorf("duplicate Enqueue = %v, %v; want false, nil", ok, err)
	}
	d := MustReceive(t, q, "w1")
	if err := q.Ack(ctx, d); err != nil {
		t.Fatal(err)
	}
	// Finished, but still within its window: a replica offering the same
	// scheduled run late must not run it again.
	if ok, err := q.Enqueue(ctx, Job("shop", "shop@1"), time.Hour); ok || err != nil {
		t.Errorf("Enqueue after Ack within window = %v, %v; want false, nil", ok, err)
	}
	// A short window lapses.
	if ok, err := q.Enqueue(ctx, Job("shop", "short"), 20*time.Millisecond); !ok || err != nil {
		t.Fatalf("Enqueue(short) = %v, %v", ok, err)
	}
	time.Sleep(100 * time.Millisecond)
	if ok, err := q.Enqueue(ctx, Job("shop", "short"), 20*time.Millisecond); !ok || err != nil {
		t.Errorf("Enqueue after the window = %v, %v; want true, nil", ok, err)
	}
}

func testDedupConcurrent(t *testing.T, open Open) {
	q := open(t, fast)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		added int
	)
	for range 8 {
		wg.Go(func() {
			ok, err := q.Enqueue(context.Background(), Job("shop", "shop@race"), time.Hour)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				added++
			}
		})
	}
	wg.Wait()
	if added != 1 {
		t.Errorf("%d of 8 concurrent Enqueues of one id added it, want 1", added)
	}
	st, err := q.Stats(context.Background())
	if err != nil || st.Depth != 1 {
		t.Errorf("Stats = %+v, %v; want depth 1", st, err)
	}
}

func testInvalid(t *testing.T, open Open) {
	q := open(t, fast)
	for _, j := range []jobqueue.Job{
		{Site: "shop"},
		{ID: "x"},
		{ID: "x", Site: "shop", Data: []byte("{not json")},
	} {
		if ok, err := q.Enqueue(context.Background(), j, time.Hour); ok || !errors.Is(err, jobqueue.ErrInvalid) {
			t.Errorf("Enqueue(%+v) = %v, %v; want ErrInvalid", j, ok, err)
		}
	}
}

func testReceiveCancelled(t *testing.T, open Open) {
	q := open(t, fast)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := q.Receive(ctx, "w1")
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Receive after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(wait):
		t.Fatal("Receive did not return after its context was cancelled")
	}
}

package localqueue_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/jobqueue/localqueue"
	"github.com/crumbhq/crumb/consentapi/jobqueue/queuetest"
)

func open(tb testing.TB, path string, opts jobqueue.Options) *localqueue.Queue {
	tb.Helper()
	q, err := localqueue.Open(path, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { q.Close() })
	return q
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, func(tb testing.TB, opts jobqueue.Options) jobqueue.Queue {
		return open(tb, filepath.Join(tb.TempDir(), "jobs.db"), opts)
	})
}

// TestDurable: a job queued and leased by a process that then died is
// still there after a restart, and is delivered again once its lease ends.
func TestDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	opts := jobqueue.Options{Visibility: time.Second, Poll: 20 * time.Millisecond}
	q := open(t, path, opts)
	queuetest.MustEnqueue(t, q, queuetest.Job("shop", "shop@1"))
	queuetest.MustEnqueue(t, q, queuetest.Job("shop", "shop@2"))
	first := queuetest.MustReceive(t, q, "before-crash")
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Enqueue(context.Background(), queuetest.Job("shop", "x"), time.Hour); !errors.Is(err, jobqueue.ErrClosed) {
		t.Errorf("Enqueue on a closed queue = %v, want ErrClosed", err)
	}

	q = open(t, path, opts)
	if ok, err := q.Enqueue(context.Background(), queuetest.Job("shop", "shop@1"), time.Hour); ok || err != nil {
		t.Errorf("dedup window lost on restart: Enqueue = %v, %v", ok, err)
	}
	second := queuetest.MustReceive(t, q, "after-restart")
	third := queuetest.MustReceive(t, q, "after-restart")
	if second.Job.ID != "shop@2" || second.Attempt != 1 {
		t.Errorf("first delivery after restart = %s attempt %d, want shop@2 attempt 1", second.Job.ID, second.Attempt)
	}
	if third.Job.ID != first.Job.ID || third.Attempt != 2 {
		t.Errorf("reclaimed after restart = %s attempt %d, want %s attempt 2", third.Job.ID, third.Attempt, first.Job.ID)
	}
}

// TestClosedReceive: closing the queue ends a waiting Receive.
func TestClosedReceive(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "jobs.db"), jobqueue.Options{})
	errc := make(chan error, 1)
	go func() {
		_, err := q.Receive(context.Background(), "w1")
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	q.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, jobqueue.ErrClosed) {
			t.Errorf("Receive on close = %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Receive did not return after Close")
	}
}

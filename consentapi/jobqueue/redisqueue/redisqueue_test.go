package redisqueue_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/jobqueue/queuetest"
	"github.com/crumbhq/crumb/consentapi/jobqueue/redisqueue"
	"github.com/crumbhq/crumb/consentapi/redistest"
)

// openQueue returns queues on one real Redis, flushed for each, so the
// suite's subtests do not see each other's jobs.
func openQueue(srv *redistest.Server) queuetest.Open {
	return func(tb testing.TB, opts jobqueue.Options) jobqueue.Queue {
		tb.Helper()
		rdb := redis.NewClient(&redis.Options{Network: srv.Network(), Addr: srv.Addr()})
		tb.Cleanup(func() { rdb.Close() })
		if err := rdb.FlushAll(context.Background()).Err(); err != nil {
			tb.Fatalf("flush: %v", err)
		}
		q, err := redisqueue.New(rdb, "", opts)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { q.Close() })
		return q
	}
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, openQueue(redistest.Start(t)))
}

// TestSurvivesReconnect: jobs live in Redis, not in the client: a second
// client (another machine's worker) receives what the first enqueued.
func TestSurvivesReconnect(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	q1 := openQueue(srv)(t, jobqueue.Options{})
	queuetest.MustEnqueue(t, q1, queuetest.Job("shop", "shop@1"))
	rdb := redis.NewClient(&redis.Options{Network: srv.Network(), Addr: srv.Addr()})
	defer rdb.Close()
	q2, err := redisqueue.New(rdb, "", jobqueue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := queuetest.MustReceive(t, q2, "other-machine")
	if err := q2.Ack(ctx, d); err != nil {
		t.Fatal(err)
	}
	if ok, err := q1.Enqueue(ctx, queuetest.Job("shop", "shop@1"), time.Hour); ok || err != nil {
		t.Errorf("re-enqueue from the first client = %v, %v; want deduplicated", ok, err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	if _, err := redisqueue.New(rdb, "{x}", jobqueue.Options{}); err == nil {
		t.Error("New with braces in the prefix: no error")
	}
	if _, err := redisqueue.New(rdb, "", jobqueue.Options{Visibility: -1}); err == nil {
		t.Error("New with a negative visibility: no error")
	}
}

// TestConformanceOnCluster runs the suite on a real three-master Redis
// Cluster: every key of a queue carries one hash tag, so its scripts run in
// one slot; each subtest gets its own prefix and so, likely, its own node.
func TestConformanceOnCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { rdb.Close() })
	n := 0
	queuetest.Run(t, func(tb testing.TB, opts jobqueue.Options) jobqueue.Queue {
		n++
		q, err := redisqueue.New(rdb, fmt.Sprintf("crumb:jobs:%d", n), opts)
		if err != nil {
			tb.Fatal(err)
		}
		return q
	})
}

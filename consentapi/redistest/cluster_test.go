package redistest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/crumbhq/crumb/consentapi/redistest"
)

// TestCluster: the three masters form one cluster that serves keys on
// every node, and hash-tagged keys share a slot.
func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	if len(c.Addrs()) != 3 {
		t.Fatalf("Addrs = %v, want 3", c.Addrs())
	}
	ctx := context.Background()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	defer rdb.Close()
	for i := range 60 {
		if err := rdb.Set(ctx, fmt.Sprintf("key:%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET key:%d: %v", i, err)
		}
	}
	var (
		mu    sync.Mutex
		sizes []int64
	)
	err := rdb.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		n, err := node.DBSize(ctx).Result()
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 3 {
		t.Fatalf("%d masters answered, want 3", len(sizes))
	}
	for i, n := range sizes {
		if n == 0 {
			t.Errorf("master %d holds no keys of 60 spread over the slots: %v", i, sizes)
		}
	}
	// Keys with one hash tag may be used together in one script.
	n, err := rdb.Eval(ctx, "redis.call('SET', KEYS[1], 1); redis.call('SET', KEYS[2], 2); return redis.call('EXISTS', KEYS[1], KEYS[2])",
		[]string{"{site:shop}:a", "{site:shop}:b"}).Int()
	if err != nil || n != 2 {
		t.Errorf("script over one hash tag = %d, %v; want 2", n, err)
	}
	if got := c.URL(); got != "redis-cluster://"+c.Addrs()[0]+","+c.Addrs()[1]+","+c.Addrs()[2] {
		t.Errorf("URL = %q", got)
	}
}

package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/redis/go-redis/v9"
)

// TestServeRedisFault kills redis-server under write load and restarts it
// on the same address with the same append-only file. While Redis is down
// the server answers 503 within its store timeout (no hang, no 500); it
// recovers by itself; and every decision it acknowledged is in Redis
// exactly once. Clients retry a 503 with the same event id, as the widget
// does.
func TestServeRedisFault(t *testing.T) {
	rs := redistest.Start(t)
	s := startServe(t, map[string]string{"CRUMB_REDIS_URL": rs.URL(), "CRUMB_RATE_LIMIT": "-1"})
	banner := bannerHash(t, "exempel")
	client := &http.Client{Timeout: 10 * time.Second}

	var (
		mu       sync.Mutex
		acked    = map[string]string{} // event id → consent id
		statuses = map[int]int{}
		slowest  time.Duration
		down     atomic.Bool
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				ev := fmt.Sprintf("fault-%02d-%08d", w, i)
				for try := 0; try < 50 && !stop.Load(); try++ {
					start := time.Now()
					resp, out, err := post(t, client, s.base, banner, ev, "")
					took := time.Since(start)
					if err != nil {
						t.Errorf("%s: %v", ev, err)
						return
					}
					mu.Lock()
					statuses[resp.StatusCode]++
					if down.Load() && took > slowest {
						slowest = took
					}
					if resp.StatusCode/100 == 2 {
						acked[ev], _ = out["consent_id"].(string)
					}
					mu.Unlock()
					if resp.StatusCode/100 == 2 {
						break
					}
					if resp.StatusCode != http.StatusServiceUnavailable {
						t.Errorf("%s: status %d %v, want 2xx or 503", ev, resp.StatusCode, out)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}

	time.Sleep(400 * time.Millisecond)
	down.Store(true)
	if err := rs.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if code, body := get(t, s.base+"/readyz", ""); code != http.StatusServiceUnavailable {
		t.Errorf("readyz while Redis is down: %d %s, want 503", code, body)
	}
	mu.Lock()
	n503 := statuses[http.StatusServiceUnavailable]
	mu.Unlock()
	if n503 == 0 {
		t.Error("no 503 while Redis was down")
	}
	if err := rs.Restart(); err != nil {
		t.Fatal(err)
	}
	down.Store(false)
	recovered := time.Now()
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n > before+20 {
			break
		}
		if time.Since(recovered) > 15*time.Second {
			t.Fatal("the server did not recover within 15s of Redis coming back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("statuses %v; %d acknowledged; slowest answer while Redis was down %v; recovered in %v",
		statuses, len(acked), slowest, time.Since(recovered).Round(time.Millisecond))
	if slowest > 4*time.Second {
		t.Errorf("an answer took %v while Redis was down; want 503 within the 2s store timeout", slowest)
	}
	if statuses[http.StatusInternalServerError] > 0 {
		t.Errorf("%d answers were 500", statuses[http.StatusInternalServerError])
	}
	checkExactlyOnce(t, rs, acked)
}

// checkExactlyOnce verifies that each acknowledged decision is in Redis
// under its consent, in a day's proof log, and counted once. The test's
// Redis is its own, so every day key in it is the test's: a run across
// midnight UTC spans two.
func checkExactlyOnce(t *testing.T, rs *redistest.Server, acked map[string]string) {
	t.Helper()
	ctx := context.Background()
	rc := redis.NewClient(&redis.Options{Network: rs.Network(), Addr: rs.Addr()})
	defer rc.Close()
	logKeys := rc.Keys(ctx, "crumb:{exempel}:log:*").Val()
	for ev, id := range acked {
		rec, err := rc.Get(ctx, "crumb:{exempel}:r:"+ev).Result()
		if err != nil {
			t.Errorf("acknowledged %s: record missing (%v)", ev, err)
			continue
		}
		if want := `{"consent_id":"` + id + `"`; len(rec) < len(want) || rec[:len(want)] != want {
			t.Errorf("%s: record %.60s is not under consent %s", ev, rec, id)
		}
		if hist := rc.Get(ctx, "crumb:{exempel}:c:"+id).Val(); len(hist) == 0 {
			t.Errorf("%s: consent %s has no history", ev, id)
		}
		in := 0
		for _, k := range logKeys {
			if _, err := rc.ZScore(ctx, k, ev).Result(); err == nil {
				in++
			}
		}
		if in != 1 {
			t.Errorf("%s: in %d days' proof logs, want 1", ev, in)
		}
	}
	var logged, counted int64
	for _, k := range logKeys {
		logged += rc.ZCard(ctx, k).Val()
		day := strings.TrimPrefix(k, "crumb:{exempel}:log:")
		n, _ := rc.HGet(ctx, "crumb:{exempel}:agg:"+day, "d:custom").Int64()
		counted += n
	}
	if logged < int64(len(acked)) || counted != logged {
		t.Errorf("proof logs %d entries, counters %d, acknowledged %d: want counters = logs >= acknowledged", logged, counted, len(acked))
	}
}

package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/consentapi/storetest"
	"github.com/redis/go-redis/v9"
)

// TestSentinelFailover runs the store through a real Redis Sentinel (a
// master and two replicas) and kills the master under write load: the
// store finds the master through the Sentinel, answers ErrUnavailable
// (never another error) while there is none, recovers by itself on the
// replica the Sentinel promotes (which has not got the store's scripts
// loaded), and every decision it acknowledged, before, during or after the
// failover, is on the new master.
func TestSentinelFailover(t *testing.T) {
	ctx := context.Background()
	sen := redistest.StartSentinel(t)
	c, err := redisstore.Dial(sen.URL())
	if err != nil {
		t.Fatal(err)
	}
	s, err := redisstore.New(ctx, c, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.PutBanner(t, s, "shop")
	record := func(ev string) (store.Record, error) {
		r, _, err := s.Record(ctx, storetest.Decision(ev, "", time.Now().UTC()))
		return r, err
	}
	before, err := record("before-failover")
	if err != nil {
		t.Fatal(err)
	}

	// Writers keep recording while the master dies and the Sentinel
	// promotes a replica.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		acked    []store.Record
		failures int
	)
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r, err := record(fmt.Sprintf("during-%d-%d", w, i))
				mu.Lock()
				if err == nil {
					acked = append(acked, r)
				} else {
					failures++
					if !errors.Is(err, store.ErrUnavailable) {
						t.Errorf("during the failover: %v, want ErrUnavailable", err)
					}
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	if err := sen.Master.Kill(); err != nil {
		t.Fatal(err)
	}
	promotedServer, err := sen.Promoted(fctx)
	cancel()
	if err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	// The store recovers by itself: a new decision is recorded on the new
	// master within 20 s of the Sentinel naming it.
	after := waitFor(t, "a decision recorded after the failover", func() (store.Record, bool) {
		r, err := record(fmt.Sprintf("after-failover-%d", time.Now().UnixNano()))
		return r, err == nil
	})
	close(stop)
	wg.Wait()
	t.Logf("during the failover: %d decisions acknowledged, %d answered unavailable", len(acked), failures)

	// Read on the promoted server itself, not through the Sentinel.
	promoted := redis.NewClient(&redis.Options{Addr: promotedServer.Addr()})
	direct, err := redisstore.New(ctx, promoted, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if role, err := promoted.Do(ctx, "ROLE").Slice(); err != nil || len(role) == 0 || role[0] != "master" {
		t.Fatalf("the promoted server's ROLE is %v, %v; want master", role, err)
	}
	lost := 0
	for _, r := range append(acked, before, after) {
		recs, err := direct.Consent(ctx, "shop", r.ConsentID)
		if err != nil || len(recs) != 1 || recs[0].EventID != r.EventID {
			if lost++; lost <= 3 {
				t.Errorf("after the failover consent %s of %s reads %v, %v", r.ConsentID, r.EventID, recs, err)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged decisions are not on the new master", lost, len(acked)+2)
	}
}

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
	"github.com/redis/go-redis/v9"
)

// TestRecordAnswersByDeadline pauses Redis: every decision, sent in a batch
// or still queued behind one, is answered with store.ErrUnavailable by its
// deadline (the store's timeout, or the context's if earlier), long before
// Redis answers again.
func TestRecordAnswersByDeadline(t *testing.T) {
	srv := redistest.Start(t)
	c, err := redisstore.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	s, err := redisstore.New(context.Background(), c, redisstore.Options{OpTimeout: 300 * time.Millisecond, Committers: 1, MaxBatch: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const banner = "0123456789abcdef0123456789abcdef"
	if err := s.PutBanner(context.Background(), "shop", banner, []byte(`{}`), time.Hour); err != nil {
		t.Fatal(err)
	}
	admin := redis.NewClient(&redis.Options{Network: srv.Network(), Addr: srv.Addr()})
	defer admin.Close()
	if err := admin.Do(context.Background(), "CLIENT", "PAUSE", "1500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}

	now := time.Now().UTC().Truncate(time.Millisecond)
	decision := func(i int) store.Decision {
		return store.Decision{
			Record: store.Record{
				EventID: fmt.Sprintf("deadline-%08d", i), Site: "shop", RecordedAt: now, ExpiresAt: now.Add(time.Hour),
				Action: store.AcceptAll, Categories: map[string]bool{"necessary": true}, Revision: 1, Banner: banner,
				Language: "sv", WidgetVersion: "w", UserAgent: "other",
			},
			NewConsentID: fmt.Sprintf("new-consent-id-%07d", i), Retention: time.Hour,
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 12) // three batches' worth: most wait in the queue
	for i := range errs {
		wg.Go(func() {
			_, _, errs[i] = s.Record(context.Background(), decision(i))
		})
	}
	// A caller's earlier deadline is kept too. (Redis pauses for 1.5s.)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, ctxErr := s.Record(ctx, decision(len(errs)))
	ctxTook := time.Since(start)
	wg.Wait()
	took := time.Since(start)
	for i, err := range errs {
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("decision %d: err=%v, want ErrUnavailable", i, err)
		}
	}
	if !errors.Is(ctxErr, store.ErrUnavailable) || ctxTook > 1200*time.Millisecond {
		t.Errorf("with a 100ms context: err=%v after %v, want ErrUnavailable well before Redis answers", ctxErr, ctxTook)
	}
	if took > 1200*time.Millisecond {
		t.Errorf("answered after %v; want by the 300ms store timeout, not when Redis answers again", took)
	}
}

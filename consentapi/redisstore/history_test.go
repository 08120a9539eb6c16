package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/consentapi/storetest"
	"github.com/redis/go-redis/v9"
)

// TestLongHistory checks store.MaxHistory on histories longer than it,
// as written before the bound (the script reads only their tail unless
// that holds too few live events): a decision naming one joins it only if
// fewer than MaxHistory of its events are within the retention, and then
// the events past it are dropped.
func TestLongHistory(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv.URL())
	defer s.Close()
	ctx := context.Background()
	storetest.PutBanner(t, s, "shop")
	admin := redis.NewClient(&redis.Options{Network: srv.Network(), Addr: srv.Addr()})
	defer admin.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	old := now.Add(-2 * 365 * 24 * time.Hour)
	tests := []struct {
		name       string
		past, live int // events past the retention, then within it
		joins      bool
	}{
		{"all live", 0, 3000, false},
		{"one live", 3000, 1, true},
		{"one short of the bound live", 3000, store.MaxHistory - 1, true},
		{"the bound live", 3000, store.MaxHistory, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("legacy-consent-%d", i)
			var toks []string
			for j := range tt.past {
				toks = append(toks, fmt.Sprintf("%d:old-event-%012d", old.Add(time.Duration(j)*time.Millisecond).UnixMilli(), j))
			}
			for j := range tt.live {
				toks = append(toks, fmt.Sprintf("%d:live-event-%012d", now.Add(time.Duration(j-tt.live)*time.Millisecond).UnixMilli(), j))
			}
			ck := "crumb:{shop}:c:" + id
			if err := admin.Set(ctx, ck, strings.Join(toks, " "), time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			d := storetest.Decision(fmt.Sprintf("decision-on-legacy-%d", i), id, now)
			rec, created, err := s.Record(ctx, d)
			if err != nil || !created {
				t.Fatalf("record: created=%v err=%v", created, err)
			}
			hist, err := admin.Get(ctx, ck).Result()
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Fields(hist)
			if tt.joins {
				if rec.ConsentID != id {
					t.Errorf("consent id %q, want %q", rec.ConsentID, id)
				}
				if len(got) != tt.live+1 || !strings.HasSuffix(got[len(got)-1], ":"+d.EventID) {
					t.Errorf("history has %d events ending %q, want the %d live ones and the decision", len(got), got[len(got)-1], tt.live)
				}
				return
			}
			if rec.ConsentID != d.NewConsentID {
				t.Errorf("consent id %q, want the new id %q", rec.ConsentID, d.NewConsentID)
			}
			if len(got) != len(toks) {
				t.Errorf("full history has %d events, want %d untouched", len(got), len(toks))
			}
		})
	}
}

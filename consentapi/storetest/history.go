package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
)

// testHistoryCap fills a consent id's history to store.MaxHistory: the
// next decision naming it starts a new consent under its new id, the full
// history keeps exactly MaxHistory records, and retries, of the capped
// decision as of one in the full history, return the stored records and
// write nothing.
func testHistoryCap(t *testing.T, s store.Store) {
	ctx := context.Background()
	PutBanner(t, s, site)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Millisecond) }
	id := mustRecord(t, s, decision(0, "", at(0))).ConsentID
	for i := 1; i < store.MaxHistory; i++ {
		if rec := mustRecord(t, s, decision(i, id, at(i))); rec.ConsentID != id {
			t.Fatalf("decision %d of %d got consent id %q, want %q", i+1, store.MaxHistory, rec.ConsentID, id)
		}
	}
	capped := decision(store.MaxHistory, id, at(store.MaxHistory))
	rec := mustRecord(t, s, capped)
	if rec.ConsentID != capped.NewConsentID {
		t.Fatalf("decision naming a full history got consent id %q, want the new id %q", rec.ConsentID, capped.NewConsentID)
	}
	want := capped.Record
	want.ConsentID = capped.NewConsentID
	if err := equal(rec, want); err != nil {
		t.Fatal(err)
	}

	retry := capped
	retry.NewConsentID = "yet-another-new-id"
	again, created, err := s.Record(ctx, retry)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("retry of the capped decision reported created=true")
	}
	if err := equal(again, rec); err != nil {
		t.Errorf("retry of the capped decision: %v", err)
	}
	inside := decision(5, id, at(store.MaxHistory+1)) // an event of the full history
	if again, created, err := s.Record(ctx, inside); err != nil || created || again.ConsentID != id || again.EventID != inside.EventID {
		t.Errorf("retry of a decision in the full history: %+v created=%v err=%v, want the stored record", again, created, err)
	}
	if _, err := s.Consent(ctx, site, retry.NewConsentID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a retry started a consent: err=%v", err)
	}

	recs := mustConsent(t, s, site, id)
	if len(recs) != store.MaxHistory {
		t.Fatalf("full history has %d records, want %d", len(recs), store.MaxHistory)
	}
	if last := recs[len(recs)-1].EventID; last != decision(store.MaxHistory-1, "", base).EventID {
		t.Errorf("full history ends with %s", last)
	}
	if recs := mustConsent(t, s, site, capped.NewConsentID); len(recs) != 1 || recs[0].EventID != capped.EventID {
		t.Errorf("new history %+v, want the capped decision only", recs)
	}
	// The new history is joined as any other.
	next := mustRecord(t, s, decision(store.MaxHistory+1, capped.NewConsentID, at(store.MaxHistory+2)))
	if next.ConsentID != capped.NewConsentID {
		t.Errorf("decision naming the new id got %q, want %q", next.ConsentID, capped.NewConsentID)
	}
	stats, err := s.Stats(ctx, site, base, base)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, c := range stats[0].Decisions {
		n += c
	}
	if n != store.MaxHistory+2 {
		t.Errorf("%d decisions counted, want %d", n, store.MaxHistory+2)
	}
}

// testHistoryCapExpired: records past the retention of the decision do not
// count towards store.MaxHistory.
func testHistoryCapExpired(t *testing.T, s store.Store) {
	PutBanner(t, s, site)
	now := time.Now().UTC().Truncate(time.Millisecond)
	first := decision(0, "", now)
	id := mustRecord(t, s, first).ConsentID
	for i := 1; i < store.MaxHistory; i++ {
		mustRecord(t, s, decision(i, id, now.Add(time.Duration(i)*time.Millisecond)))
	}
	// Decided an hour later under a retention of half an hour: the full
	// history's records are past it.
	d := decision(store.MaxHistory, id, now.Add(time.Hour))
	d.Retention = 30 * time.Minute
	if rec := mustRecord(t, s, d); rec.ConsentID != id {
		t.Errorf("decision naming a history of records past its retention got consent id %q, want %q", rec.ConsentID, id)
	}
}

// testLatest reads a consent's newest record, or the newest before an
// event of its history, skipping records past their retention.
func testLatest(t *testing.T, s store.Store) {
	ctx := context.Background()
	PutBanner(t, s, site)
	now := time.Now().UTC().Truncate(time.Millisecond)
	first := mustRecord(t, s, decision(1, "", now))
	id := first.ConsentID
	second := mustRecord(t, s, decision(2, id, now.Add(time.Millisecond)))
	short := decision(3, id, now.Add(2*time.Millisecond))
	short.Retention = 1500 * time.Millisecond
	third := mustRecord(t, s, short)
	tests := []struct {
		name, before string
		want         *store.Record
	}{
		{"newest", "", &third},
		{"before the newest", third.EventID, &second},
		{"before the second", second.EventID, &first},
		{"before the first", first.EventID, nil},
		{"before an event of no history", "event-of-nothing-1", &third},
		{"before an event of another history", decision(9, "", now).EventID, &third},
	}
	mustRecord(t, s, decision(9, "", now))
	check := func(name, before string, want *store.Record) {
		t.Helper()
		got, err := s.Latest(ctx, site, id, before)
		if want == nil {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: %+v, err=%v; want ErrNotFound", name, got, err)
			}
			return
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if err := equal(got, *want); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, tt := range tests {
		check(tt.name, tt.before, tt.want)
	}
	if _, err := s.Latest(ctx, site, "never-issued-id", ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown id: err=%v, want ErrNotFound", err)
	}
	time.Sleep(2 * time.Second)
	check("newest once the newest expired", "", &second)
	if err := s.Erase(ctx, site, id); err != nil {
		t.Fatal(err)
	}
	check("erased", "", nil)
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
)

func testErase(t *testing.T, s store.Store) {
	ctx := context.Background()
	PutBanner(t, s, site)
	first := mustRecord(t, s, decision(1, "", base))
	mustRecord(t, s, decision(2, first.ConsentID, base.Add(time.Second)))
	other := mustRecord(t, s, decision(3, "", base.Add(2*time.Second)))

	if err := s.Erase(ctx, site, first.ConsentID); err != nil {
		t.Fatalf("erase: %v", err)
	}
	if _, err := s.Consent(ctx, site, first.ConsentID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("consent after erase: err=%v, want ErrNotFound", err)
	}
	if err := s.Erase(ctx, site, first.ConsentID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second erase: err=%v, want ErrNotFound", err)
	}
	var logged []string
	if err := s.Proofs(ctx, site, base.Add(-time.Hour), base.Add(time.Hour), func(r store.Record) error {
		logged = append(logged, r.ConsentID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(logged) != 1 || logged[0] != other.ConsentID {
		t.Errorf("proof log after erase holds %v, want only %s", logged, other.ConsentID)
	}
	// The erased id is not resurrected by a later decision naming it.
	rec := mustRecord(t, s, decision(4, first.ConsentID, base.Add(3*time.Second)))
	if rec.ConsentID == first.ConsentID {
		t.Error("a decision with an erased consent id appended to it instead of starting a new one")
	}
	stats, err := s.Stats(ctx, site, base, base)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stats[0].Decisions[store.Custom], int64(4); got != want {
		t.Errorf("aggregates after erase: %d decisions, want %d (aggregates survive erasure)", got, want)
	}
}

func testSitesIsolated(t *testing.T, s store.Store) {
	ctx := context.Background()
	PutBanner(t, s, site)
	PutBanner(t, s, "blog")
	a := mustRecord(t, s, decision(1, "", base))
	d := decision(1, a.ConsentID, base) // same event id and consent id, other site
	d.Site = "blog"
	d.NewConsentID = "blog-consent-000001"
	b := mustRecord(t, s, d)
	if b.ConsentID != d.NewConsentID {
		t.Errorf("blog decision joined shop's consent: %q", b.ConsentID)
	}
	if _, err := s.Consent(ctx, "blog", a.ConsentID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("shop's consent visible on blog: err=%v", err)
	}
	if recs := mustConsent(t, s, site, a.ConsentID); len(recs) != 1 {
		t.Errorf("shop history has %d records, want 1", len(recs))
	}
}

func testStats(t *testing.T, s store.Store) {
	ctx := context.Background()
	PutBanner(t, s, site)
	day1 := time.Date(2026, 3, 1, 23, 59, 59, 0, time.UTC)
	day3 := day1.Add(48 * time.Hour)
	for range 3 {
		if err := s.Impression(ctx, site, day1, year); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Impression(ctx, site, day3, year); err != nil {
		t.Fatal(err)
	}
	d := decision(1, "", day1)
	d.Action = store.AcceptAll
	d.Categories = map[string]bool{"necessary": true, "analytics": true, "marketing": true}
	mustRecord(t, s, d)
	d = decision(2, "", day1)
	d.Action = store.RejectAll
	d.Categories = map[string]bool{"necessary": true, "analytics": false, "marketing": false}
	mustRecord(t, s, d)
	mustRecord(t, s, decision(3, "", day3)) // custom, analytics denied (odd)

	stats, err := s.Stats(ctx, site, day1, day3)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 3 {
		t.Fatalf("%d days, want 3: %+v", len(stats), stats)
	}
	got := fmt.Sprintf("%s imp=%d acc=%d rej=%d an+=%d an-=%d mk+=%d | %s imp=%d | %s imp=%d cus=%d an-=%d",
		stats[0].Day, stats[0].Impressions, stats[0].Decisions[store.AcceptAll], stats[0].Decisions[store.RejectAll],
		stats[0].Granted["analytics"], stats[0].Denied["analytics"], stats[0].Granted["marketing"],
		stats[1].Day, stats[1].Impressions,
		stats[2].Day, stats[2].Impressions, stats[2].Decisions[store.Custom], stats[2].Denied["analytics"])
	want := "2026-03-01 imp=3 acc=1 rej=1 an+=1 an-=1 mk+=1 | 2026-03-02 imp=0 | 2026-03-03 imp=1 cus=1 an-=1"
	if got != want {
		t.Errorf("stats\n got %s\nwant %s", got, want)
	}
	if stats[0].Granted["necessary"] != 2 {
		t.Errorf("necessary granted %d times, want 2", stats[0].Granted["necessary"])
	}
}

func testProofs(t *testing.T, s store.Store) {
	ctx := context.Background()
	PutBanner(t, s, site)
	start := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	const n = 1203 // more than one batch
	for i := range n {
		mustRecord(t, s, decision(i, "", start.Add(time.Duration(i)*time.Minute)))
	}
	var got []string
	from, to := start.Add(10*time.Minute), start.Add(1210*time.Minute)
	if err := s.Proofs(ctx, site, from, to, func(r store.Record) error {
		got = append(got, r.EventID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != n-10 {
		t.Fatalf("%d records in [from, to), want %d", len(got), n-10)
	}
	for i, ev := range got {
		if want := fmt.Sprintf("event-%012d", i+10); ev != want {
			t.Fatalf("record %d is %s, want %s (oldest first)", i, ev, want)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err := s.Proofs(ctx, site, from, to, func(store.Record) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn error: err=%v after %d calls, want stop after 1", err, calls)
	}
}

func testBanners(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.Banner(ctx, site, banner); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing banner: err=%v, want ErrNotFound", err)
	}
	snap := []byte(`{"site":"shop","revision":2}`)
	for range 2 {
		if err := s.PutBanner(ctx, site, banner, snap, year); err != nil {
			t.Fatalf("put: %v", err)
		}
	}
	if err := s.PutBanner(ctx, site, banner, []byte(`{"changed":true}`), year); !errors.Is(err, store.ErrConflict) {
		t.Errorf("put different content under the same hash: err=%v, want ErrConflict", err)
	}
	got, err := s.Banner(ctx, site, banner)
	if err != nil || string(got) != string(snap) {
		t.Errorf("banner=%s, %v; want %s", got, err, snap)
	}
	if _, err := s.Banner(ctx, "blog", banner); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("banner of another site: err=%v, want ErrNotFound", err)
	}
}

func testSiteRevision(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.SiteRevision(ctx, site); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("err=%v, want ErrNotFound", err)
	}
	for _, step := range []struct{ raise, want int }{{3, 3}, {2, 3}, {5, 5}} {
		got, err := s.RaiseSiteRevision(ctx, site, step.raise)
		if err != nil || got != step.want {
			t.Fatalf("raise %d: %d, %v; want %d", step.raise, got, err, step.want)
		}
	}
	if got, err := s.SiteRevision(ctx, site); err != nil || got != 5 {
		t.Errorf("revision=%d, %v; want 5", got, err)
	}
}

// testExpiry records with a short retention and checks that the history,
// the proof log and the event id are gone once it has passed.
func testExpiry(t *testing.T, s store.Store) {
	ctx := context.Background()
	PutBanner(t, s, site)
	now := time.Now().UTC().Truncate(time.Millisecond)
	d := decision(1, "", now)
	d.Retention = 1500 * time.Millisecond
	rec := mustRecord(t, s, d)
	keep := decision(2, "", now)
	mustRecord(t, s, keep)
	time.Sleep(2 * time.Second)
	if _, err := s.Consent(ctx, site, rec.ConsentID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("consent after its retention: err=%v, want ErrNotFound", err)
	}
	var logged []string
	if err := s.Proofs(ctx, site, now.Add(-time.Hour), now.Add(time.Hour), func(r store.Record) error {
		logged = append(logged, r.EventID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(logged) != 1 || logged[0] != keep.EventID {
		t.Errorf("proof log holds %v, want only %s", logged, keep.EventID)
	}
	if recs := mustConsent(t, s, site, keep.NewConsentID); len(recs) != 1 {
		t.Errorf("a record within its retention is gone")
	}
}

// testConcurrent records from many goroutines at once, each event sent
// twice, onto one consent id: every event is kept exactly once.
func testConcurrent(t *testing.T, s store.Store) {
	PutBanner(t, s, site)
	first := mustRecord(t, s, decision(0, "", base))
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	created := make(chan bool, 2*n)
	for i := 1; i <= n; i++ {
		for range 2 {
			wg.Go(func() {
				_, c, err := s.Record(context.Background(), decision(i, first.ConsentID, base.Add(time.Duration(i)*time.Millisecond)))
				errs <- err
				created <- c
			})
		}
	}
	wg.Wait()
	close(errs)
	close(created)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	nCreated := 0
	for c := range created {
		if c {
			nCreated++
		}
	}
	if nCreated != n {
		t.Errorf("%d decisions reported created, want %d", nCreated, n)
	}
	if recs := mustConsent(t, s, site, first.ConsentID); len(recs) != n+1 {
		t.Errorf("history has %d records, want %d", len(recs), n+1)
	}
}

func testSiteScope(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.SiteScope(ctx, site); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no scope yet: err=%v, want ErrNotFound", err)
	}
	first := store.SiteScope{Revision: 1, Scope: []string{"marketing", "analytics", "analytics|google"}, Scan: "shop@1"}
	if ok, err := s.SwapSiteScope(ctx, site, &first, first); err != nil || ok {
		t.Fatalf("swap from a scope never stored: %v, %v; want false", ok, err)
	}
	if ok, err := s.SwapSiteScope(ctx, site, nil, first); err != nil || !ok {
		t.Fatalf("first swap: %v, %v; want true", ok, err)
	}
	if ok, err := s.SwapSiteScope(ctx, site, nil, first); err != nil || ok {
		t.Fatalf("swap from none once one is stored: %v, %v; want false", ok, err)
	}
	got, err := s.SiteScope(ctx, site)
	if err != nil || string(got.Encode()) != string(first.Encode()) {
		t.Fatalf("scope=%s, %v; want %s", got.Encode(), err, first.Encode())
	}
	next := store.SiteScope{Revision: 2, Scope: []string{"analytics", "marketing|meta"}}
	stale := store.SiteScope{Revision: 1, Scope: []string{"analytics"}}
	if ok, err := s.SwapSiteScope(ctx, site, &stale, next); err != nil || ok {
		t.Fatalf("swap from a stale scope: %v, %v; want false", ok, err)
	}
	// The stored scope as read back is what a caller swaps from.
	if ok, err := s.SwapSiteScope(ctx, site, &got, next); err != nil || !ok {
		t.Fatalf("swap from the scope read: %v, %v; want true", ok, err)
	}
	if got, err := s.SiteScope(ctx, site); err != nil || got.Revision != 2 || got.Scan != "" || len(got.Scope) != 2 {
		t.Errorf("scope=%+v, %v; want %+v", got, err, next)
	}
	if _, err := s.SiteScope(ctx, "blog"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("scope of another site: err=%v, want ErrNotFound", err)
	}
	if rev, err := s.SiteRevision(ctx, site); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a scope set the revision: %d, %v", rev, err)
	}
}

// testSiteScopeConcurrent swaps from the same scope in many goroutines at
// once: exactly one wins, as replicas deciding on the same raise must.
func testSiteScopeConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	from := store.SiteScope{Revision: 3, Scope: []string{"analytics"}}
	if ok, err := s.SwapSiteScope(ctx, site, nil, from); err != nil || !ok {
		t.Fatalf("first swap: %v, %v", ok, err)
	}
	const n = 20
	var wg sync.WaitGroup
	wins := make(chan bool, n)
	for i := range n {
		wg.Go(func() {
			ok, err := s.SwapSiteScope(ctx, site, &from, store.SiteScope{Revision: 4, Scope: []string{"analytics", fmt.Sprintf("marketing|p%d", i)}})
			if err != nil {
				t.Error(err)
			}
			wins <- ok
		})
	}
	wg.Wait()
	close(wins)
	won := 0
	for ok := range wins {
		if ok {
			won++
		}
	}
	if won != 1 {
		t.Errorf("%d swaps from the same scope succeeded, want 1", won)
	}
}

func testWidgetVersions(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.WidgetVersion(ctx, "0123456789abcdef"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown version: err=%v, want ErrNotFound", err)
	}
	if err := s.PutWidgetVersion(ctx, "0123456789abcdef", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWidgetVersion(ctx, "fedcba9876543210", 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// A shorter keep never cuts a longer one short.
	if err := s.PutWidgetVersion(ctx, "0123456789abcdef", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"0123456789abcdef", "fedcba9876543210"} {
		if err := s.WidgetVersion(ctx, h); err != nil {
			t.Errorf("version %s: %v", h, err)
		}
	}
	time.Sleep(2 * time.Second)
	if err := s.WidgetVersion(ctx, "fedcba9876543210"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("version past its keep: err=%v, want ErrNotFound", err)
	}
	if err := s.WidgetVersion(ctx, "0123456789abcdef"); err != nil {
		t.Errorf("version within its keep: %v", err)
	}
}

// testBannerOutlivesShortKeep stores a banner for a second and a record
// naming it for a year: once the second has passed, the banner is still
// readable, because a released banner is kept as long as any record that
// refers to it (R23).
func testBannerOutlivesShortKeep(t *testing.T, s store.Store) {
	ctx := context.Background()
	snap := []byte(`{"site":"shop","revision":2,"categories":[{"id":"analytics"}]}`)
	if err := s.PutBanner(ctx, site, banner, snap, time.Second); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	rec := mustRecord(t, s, decision(1, "", now)) // retention: a year
	// A banner nobody answered goes with its keep: the store does expire
	// banners, so what follows tests the record's hold on this one.
	other := "fedcba9876543210fedcba9876543210"
	if err := s.PutBanner(ctx, site, other, []byte(`{"site":"shop","revision":1}`), time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if _, err := s.Banner(ctx, site, other); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a banner no record names, past its keep: err=%v, want ErrNotFound", err)
	}
	got, err := s.Banner(ctx, site, rec.Banner)
	if err != nil || string(got) != string(snap) {
		t.Fatalf("banner of a retained record, past its own keep: %s, %v; want %s", got, err, snap)
	}
	if recs := mustConsent(t, s, site, rec.ConsentID); len(recs) != 1 || recs[0].Banner != banner {
		t.Fatalf("the record is gone: %+v", recs)
	}
	// Storing the same banner again with a short keep (every replica does
	// on start) does not shorten it either.
	if err := s.PutBanner(ctx, site, banner, snap, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := s.Banner(ctx, site, banner); err != nil {
		t.Errorf("banner after a short re-put: %v", err)
	}
}

// testRetentionShortened records a decision kept a year, then one on the
// same consent after the site's retention was shortened to 30 days, when
// the first is older than that: the first record still lives out its own
// retention, so the visitor's export shows it and erasure removes it.
func testRetentionShortened(t *testing.T, s store.Store) {
	ctx := context.Background()
	PutBanner(t, s, site)
	old := base.Add(-60 * 24 * time.Hour)
	first := mustRecord(t, s, decision(1, "", old))
	d := decision(2, first.ConsentID, base)
	d.Retention = 30 * 24 * time.Hour
	mustRecord(t, s, d)

	recs := mustConsent(t, s, site, first.ConsentID)
	if len(recs) != 2 {
		t.Fatalf("export after the retention was shortened holds %d records, want 2 (the older one lives out its own retention)", len(recs))
	}
	if err := s.Erase(ctx, site, first.ConsentID); err != nil {
		t.Fatalf("erase: %v", err)
	}
	for _, day := range []time.Time{old, base} {
		if err := s.Proofs(ctx, site, day.Add(-time.Hour), day.Add(time.Hour), func(r store.Record) error {
			t.Errorf("proof log after erasure still holds %s of %s", r.EventID, r.ConsentID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing of the first record is left to answer a replay of its event.
	replay := decision(1, "", old)
	if _, created, err := s.Record(ctx, replay); err != nil || !created {
		t.Errorf("event of an erased record: created=%v err=%v, want a new record (nothing left of the erased one)", created, err)
	}
}

// testDayKeysOutliveShortRetention records, in the last milliseconds of
// yesterday, a decision and an impression kept a year, then a decision and
// an impression of a retention that ends the day's keys about 1.5 s from
// now: the day's proof log and counters keep the longer retention.
func testDayKeysOutliveShortRetention(t *testing.T, s store.Store) {
	ctx := context.Background()
	PutBanner(t, s, site)
	midnight := time.Now().UTC().Truncate(24 * time.Hour)
	day := midnight.Add(-3 * time.Millisecond) // yesterday
	long := mustRecord(t, s, decision(1, "", day))
	if err := s.Impression(ctx, site, day, year); err != nil {
		t.Fatal(err)
	}
	short := decision(2, "", day.Add(time.Millisecond))
	short.Retention = time.Until(midnight.Add(1500 * time.Millisecond))
	mustRecord(t, s, short)
	if err := s.Impression(ctx, site, short.RecordedAt, short.Retention); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	var logged []string
	if err := s.Proofs(ctx, site, day.Add(-time.Hour), midnight, func(r store.Record) error {
		logged = append(logged, r.EventID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(logged) != 1 || logged[0] != long.EventID {
		t.Errorf("proof log holds %v, want only %s (kept a year)", logged, long.EventID)
	}
	stats, err := s.Stats(ctx, site, day, day)
	if err != nil {
		t.Fatal(err)
	}
	if got := stats[0].Decisions[store.Custom]; got != 2 {
		t.Errorf("day's counters: %d decisions, want 2 (a shorter retention must not shorten the day's counters)", got)
	}
	if got := stats[0].Impressions; got != 2 {
		t.Errorf("day's counters: %d impressions, want 2", got)
	}
}

// testProofsWhileErasing erases each consent as soon as the export has
// delivered its record: every record is still delivered once.
func testProofsWhileErasing(t *testing.T, s store.Store) {
	ctx := context.Background()
	PutBanner(t, s, site)
	start := time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC)
	const n = 1203 // more than two batches
	for i := range n {
		// Three decisions a millisecond: equal scores across batch ends.
		mustRecord(t, s, decision(i, "", start.Add(time.Duration(i/3)*time.Millisecond)))
	}
	seen := map[string]int{}
	if err := s.Proofs(ctx, site, start, start.Add(time.Hour), func(r store.Record) error {
		seen[r.EventID]++
		return s.Erase(ctx, site, r.ConsentID)
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Errorf("export delivered %d of %d records while they were erased behind it", len(seen), n)
	}
	for ev, c := range seen {
		if c != 1 {
			t.Errorf("%s delivered %d times", ev, c)
		}
	}
}

// testClosed uses a store after Close: every call answers
// store.ErrUnavailable, none panics or hangs, and Close again is a no-op.
func testClosed(t *testing.T, s store.Store) {
	ctx := context.Background()
	PutBanner(t, s, site)
	rec := mustRecord(t, s, decision(1, "", base))
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	calls := map[string]func() error{
		"Record":  func() error { _, _, err := s.Record(ctx, decision(2, "", base)); return err },
		"Consent": func() error { _, err := s.Consent(ctx, site, rec.ConsentID); return err },
		"Latest":  func() error { _, err := s.Latest(ctx, site, rec.ConsentID, ""); return err },
		"Erase":   func() error { return s.Erase(ctx, site, rec.ConsentID) },
		"Proofs": func() error {
			return s.Proofs(ctx, site, base.Add(-time.Hour), base.Add(time.Hour), func(store.Record) error { return nil })
		},
		"Stats":      func() error { _, err := s.Stats(ctx, site, base, base); return err },
		"Impression": func() error { return s.Impression(ctx, site, base, year) },
		"Ping":       func() error { return s.Ping(ctx) },
	}
	for name, call := range calls {
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("%s after Close: err=%v, want ErrUnavailable", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s after Close: no answer in 10s", name)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// testCancelled calls with a context already cancelled: the store answers
// at once with an error that says so (context.Canceled), writes nothing,
// and is not counted as down (not ErrUnavailable alone).
func testCancelled(t *testing.T, s store.Store) {
	PutBanner(t, s, site)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := decision(1, "", base)
	if _, _, err := s.Record(ctx, d); err == nil {
		// A store may commit a decision whose caller has gone; then it
		// must be there exactly once.
		if recs := mustConsent(t, s, site, d.NewConsentID); len(recs) != 1 {
			t.Errorf("a decision recorded under a cancelled context is there %d times", len(recs))
		}
	} else if !errors.Is(err, context.Canceled) {
		t.Errorf("Record with a cancelled context: err=%v, want context.Canceled", err)
	}
	err := s.Proofs(ctx, site, base.Add(-time.Hour), base.Add(time.Hour), func(store.Record) error { return nil })
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Proofs with a cancelled context: err=%v, want nil or context.Canceled", err)
	}
}

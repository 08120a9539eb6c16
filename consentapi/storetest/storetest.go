// Package storetest is the behaviour suite every store.Store passes. A store
// package's test calls Run with a function that opens a fresh, empty store
// on a real backend.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
)

// Open returns a new, empty store; the suite closes it.
type Open func(tb testing.TB) store.Store

// Run runs the suite against stores made by open.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"RecordNew", testRecordNew},
		{"RecordAppends", testRecordAppends},
		{"UnknownConsentStartsNew", testUnknownConsentStartsNew},
		{"DuplicateEvent", testDuplicateEvent},
		{"HistoryCap", testHistoryCap},
		{"HistoryCapExpired", testHistoryCapExpired},
		{"Latest", testLatest},
		{"Source", testSource},
		{"UnknownBanner", testUnknownBanner},
		{"Erase", testErase},
		{"SitesIsolated", testSitesIsolated},
		{"Stats", testStats},
		{"Proofs", testProofs},
		{"Banners", testBanners},
		{"SiteRevision", testSiteRevision},
		{"SiteScope", testSiteScope},
		{"SiteScopeConcurrent", testSiteScopeConcurrent},
		{"WidgetVersions", testWidgetVersions},
		{"BannerOutlivesShortKeep", testBannerOutlivesShortKeep},
		{"Expiry", testExpiry},
		{"RetentionShortened", testRetentionShortened},
		{"DayKeysOutliveShortRetention", testDayKeysOutliveShortRetention},
		{"ProofsWhileErasing", testProofsWhileErasing},
		{"Closed", testClosed},
		{"Cancelled", testCancelled},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			if err := s.Ping(context.Background()); err != nil {
				t.Fatalf("ping: %v", err)
			}
			tt.fn(t, s)
		})
	}
}

const (
	site   = "shop"
	banner = Banner
	year   = 365 * 24 * time.Hour
)

// Banner is the banner hash Decision's records name and PutBanner stores.
const Banner = "0123456789abcdef0123456789abcdef"

// base is a fixed decision time, truncated to milliseconds as the service
// stamps them.
var base = time.Now().UTC().Truncate(time.Millisecond)

// PutBanner stores banner Banner of site, kept a year.
func PutBanner(tb testing.TB, s store.Store, site string) {
	tb.Helper()
	if err := s.PutBanner(context.Background(), site, banner, []byte(`{"site":"`+site+`"}`), year); err != nil {
		tb.Fatalf("put banner: %v", err)
	}
}

// Decision returns a valid decision of site "shop" with event eventID at
// time at, under consent consentID or, when that is "", a new consent
// "consent-of-"+eventID; kept a year. It names no source, as decisions
// recorded before crumb kept one.
func Decision(eventID, consentID string, at time.Time) store.Decision {
	return store.Decision{
		Record: store.Record{
			ConsentID:     consentID,
			EventID:       eventID,
			Site:          site,
			RecordedAt:    at,
			ExpiresAt:     at.Add(180 * 24 * time.Hour),
			Action:        store.Custom,
			Categories:    map[string]bool{"necessary": true, "analytics": true, "marketing": false},
			Revision:      2,
			Banner:        banner,
			Language:      "sv",
			WidgetVersion: "w1",
			UserAgent:     "firefox",
		},
		NewConsentID: "consent-of-" + eventID,
		Retention:    year,
	}
}

// decision returns a valid decision with event id n.
func decision(n int, consentID string, at time.Time) store.Decision {
	d := Decision(fmt.Sprintf("event-%012d", n), consentID, at)
	d.Categories["analytics"] = n%2 == 0
	d.NewConsentID = fmt.Sprintf("consent-%012d", n)
	return d
}

func mustRecord(t *testing.T, s store.Store, d store.Decision) store.Record {
	t.Helper()
	rec, created, err := s.Record(context.Background(), d)
	if err != nil {
		t.Fatalf("record %s: %v", d.EventID, err)
	}
	if !created {
		t.Fatalf("record %s: created=false for a new event", d.EventID)
	}
	return rec
}

func mustConsent(t *testing.T, s store.Store, site, id string) []store.Record {
	t.Helper()
	recs, err := s.Consent(context.Background(), site, id)
	if err != nil {
		t.Fatalf("consent %s: %v", id, err)
	}
	return recs
}

// equal compares two records field by field.
func equal(a, b store.Record) error {
	if a.ConsentID != b.ConsentID || a.EventID != b.EventID || a.Site != b.Site ||
		!a.RecordedAt.Equal(b.RecordedAt) || !a.ExpiresAt.Equal(b.ExpiresAt) || a.Action != b.Action ||
		a.Revision != b.Revision || a.Banner != b.Banner || a.Language != b.Language ||
		a.WidgetVersion != b.WidgetVersion || a.UserAgent != b.UserAgent || a.Source != b.Source ||
		len(a.Categories) != len(b.Categories) {
		return fmt.Errorf("got %+v, want %+v", a, b)
	}
	for k, v := range a.Categories {
		if w, ok := b.Categories[k]; !ok || w != v {
			return fmt.Errorf("categories %v, want %v", a.Categories, b.Categories)
		}
	}
	return nil
}

func testRecordNew(t *testing.T, s store.Store) {
	PutBanner(t, s, site)
	d := decision(1, "", base)
	rec := mustRecord(t, s, d)
	want := d.Record
	want.ConsentID = d.NewConsentID
	if err := equal(rec, want); err != nil {
		t.Fatal(err)
	}
	recs := mustConsent(t, s, site, d.NewConsentID)
	if len(recs) != 1 {
		t.Fatalf("history has %d records, want 1", len(recs))
	}
	if err := equal(recs[0], want); err != nil {
		t.Fatal(err)
	}
	if !recs[0].RecordedAt.Equal(base) || recs[0].RecordedAt.Location() != time.UTC {
		t.Errorf("recorded_at=%v, want %v in UTC", recs[0].RecordedAt, base)
	}
}

func testRecordAppends(t *testing.T, s store.Store) {
	PutBanner(t, s, site)
	first := mustRecord(t, s, decision(1, "", base))
	w := decision(2, first.ConsentID, base.Add(time.Second))
	w.Action = store.Withdraw
	second := mustRecord(t, s, w)
	if second.ConsentID != first.ConsentID {
		t.Fatalf("second decision got consent id %q, want %q", second.ConsentID, first.ConsentID)
	}
	recs := mustConsent(t, s, site, first.ConsentID)
	if len(recs) != 2 || recs[0].EventID != first.EventID || recs[1].EventID != second.EventID {
		t.Fatalf("history=%+v, want the two records oldest first", recs)
	}
	if err := equal(recs[0], first); err != nil {
		t.Errorf("earlier record was rewritten: %v", err)
	}
}

func testUnknownConsentStartsNew(t *testing.T, s store.Store) {
	PutBanner(t, s, site)
	d := decision(1, "never-issued-id", base)
	rec := mustRecord(t, s, d)
	if rec.ConsentID != d.NewConsentID {
		t.Fatalf("consent id %q, want the new id %q", rec.ConsentID, d.NewConsentID)
	}
	if _, err := s.Consent(context.Background(), site, "never-issued-id"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown id: err=%v, want ErrNotFound", err)
	}
}

func testDuplicateEvent(t *testing.T, s store.Store) {
	ctx := context.Background()
	PutBanner(t, s, site)
	d := decision(1, "", base)
	first := mustRecord(t, s, d)
	again := d
	again.NewConsentID = "another-new-id"
	again.Action = store.AcceptAll
	again.RecordedAt = base.Add(time.Minute)
	rec, created, err := s.Record(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("replay reported created=true")
	}
	if err := equal(rec, first); err != nil {
		t.Errorf("replay must return the original record: %v", err)
	}
	if recs := mustConsent(t, s, site, first.ConsentID); len(recs) != 1 {
		t.Errorf("history has %d records after a replay, want 1", len(recs))
	}
	if _, err := s.Consent(ctx, site, "another-new-id"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("replay created a consent: err=%v", err)
	}
	stats, err := s.Stats(ctx, site, base, base)
	if err != nil {
		t.Fatal(err)
	}
	if got := stats[0].Decisions[store.Custom] + stats[0].Decisions[store.AcceptAll]; got != 1 {
		t.Errorf("decisions counted %d times, want 1", got)
	}
}

func testUnknownBanner(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := decision(1, "", base)
	if _, _, err := s.Record(ctx, d); !errors.Is(err, store.ErrUnknownBanner) {
		t.Fatalf("err=%v, want ErrUnknownBanner", err)
	}
	if err := s.PutBanner(ctx, "other", banner, []byte(`{}`), year); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Record(ctx, d); !errors.Is(err, store.ErrUnknownBanner) {
		t.Fatalf("banner of another site: err=%v, want ErrUnknownBanner", err)
	}
	if _, err := s.Consent(ctx, site, d.NewConsentID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused decision left a record: err=%v", err)
	}
	stats, err := s.Stats(ctx, site, base, base)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(stats[0].Decisions); n != 0 {
		t.Errorf("a refused decision was counted: %+v", stats[0])
	}
}

// testSource round-trips every source, and none, through both ways a
// record is written (a new consent, a consent's history) and every way it
// is read (the answer, the history, the proof log); a replay naming
// another source gets the stored record back.
func testSource(t *testing.T, s store.Store) {
	ctx := context.Background()
	PutBanner(t, s, site)
	sources := append([]store.Source{""}, store.Sources...)
	want := map[string]store.Source{}
	first := decision(100, "", base)
	first.Source = store.SourceSettings
	history := mustRecord(t, s, first).ConsentID // a consent the others join
	want[first.EventID] = first.Source
	for i, src := range sources {
		for j, consent := range []string{"", history} {
			d := decision(10*i+j, consent, base.Add(time.Duration(10*i+j+1)*time.Second))
			d.Source = src
			rec := mustRecord(t, s, d)
			if rec.Source != src {
				t.Errorf("%s: answered source %q, want %q", d.EventID, rec.Source, src)
			}
			want[d.EventID] = src
		}
	}
	recs := mustConsent(t, s, site, history)
	if len(recs) != len(sources)+1 {
		t.Fatalf("history has %d records, want %d", len(recs), len(sources)+1)
	}
	for _, r := range recs {
		if r.Source != want[r.EventID] {
			t.Errorf("history: %s has source %q, want %q", r.EventID, r.Source, want[r.EventID])
		}
	}
	seen := 0
	if err := s.Proofs(ctx, site, base, base.Add(time.Hour), func(r store.Record) error {
		seen++
		if r.Source != want[r.EventID] {
			t.Errorf("proof log: %s has source %q, want %q", r.EventID, r.Source, want[r.EventID])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if seen != len(want) {
		t.Errorf("proof log has %d records, want %d", seen, len(want))
	}

	// A replay is answered with the stored record, source included.
	for _, ev := range []int{0, 10} { // stored without a source, with banner
		again := decision(ev, "", base.Add(time.Hour))
		again.Source = store.SourceScript
		rec, created, err := s.Record(ctx, again)
		if err != nil {
			t.Fatal(err)
		}
		if created || rec.Source != want[again.EventID] {
			t.Errorf("replay of %s: created=%v source %q, want the stored %q", again.EventID, created, rec.Source, want[again.EventID])
		}
	}
}

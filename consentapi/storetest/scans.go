package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/scandiff"
)

// ScanStore is a store with scan history: what RunScans tests.
type ScanStore interface {
	store.Store
	store.ScanStore
}

// OpenScans returns a new, empty store with scan history; the suite
// closes it.
type OpenScans func(tb testing.TB) ScanStore

// RunScans runs the scan-history part of the suite.
func RunScans(t *testing.T, open OpenScans) {
	tests := []struct {
		name string
		fn   func(*testing.T, ScanStore)
	}{
		{"PutScanIdempotent", testPutScanIdempotent},
		{"ScanHistoryTrimmed", testScanHistoryTrimmed},
		{"ScanNotFound", testScanNotFound},
		{"ScansPerSite", testScansPerSite},
		{"ScansConcurrent", testScansConcurrent},
		{"Overrides", testOverrides},
		{"ScanSettings", testScanSettings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

var scanEpoch = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

// ScanRunAt returns a run of site finished n hours after a fixed time,
// with a one-cookie report.
func ScanRunAt(site string, n int) store.ScanRun {
	at := scanEpoch.Add(time.Duration(n) * time.Hour)
	rep := &scanner.Report{
		SchemaVersion: scanner.SchemaVersion, Site: "https://" + site + ".test/", StartedAt: at.Add(-time.Minute), FinishedAt: at,
		Modes: []string{scanner.ModeNone},
		Pages: []scanner.Page{{URL: "https://" + site + ".test/", Mode: scanner.ModeNone, Status: 200}},
		Items: []scanner.Item{{Kind: scanner.Cookie, Name: fmt.Sprintf("c%d", n), Domain: site + ".test", SeenIn: []string{"none"},
			Classification: &scanner.Classification{Category: scanner.Analytics, Provider: "P"}}},
	}
	return store.ScanRun{
		ID: fmt.Sprintf("%s@%d", site, n), Site: site, Reason: "schedule", ScheduledAt: at.Add(-time.Minute), FinishedAt: at,
		Revision: 1, Pages: 1, Items: 1, Report: rep,
		Diff: &scandiff.Diff{NewCategories: []scanner.Category{scanner.Analytics}},
	}
}

func mustPutScan(t *testing.T, s ScanStore, run store.ScanRun, keep int) {
	t.Helper()
	if _, created, err := s.PutScan(context.Background(), run, keep); err != nil || !created {
		t.Fatalf("PutScan(%s) = %v, %v; want created", run.ID, created, err)
	}
}

func ids(runs []store.ScanRun) []string {
	out := []string{}
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}

func testPutScanIdempotent(t *testing.T, s ScanStore) {
	ctx := context.Background()
	run := ScanRunAt(site, 1)
	mustPutScan(t, s, run, 5)
	retry := run
	retry.Revision, retry.RevisionRaised = 7, true // a retried job computes again
	stored, created, err := s.PutScan(ctx, retry, 5)
	if err != nil || created {
		t.Fatalf("PutScan again = created %v, %v; want false, nil", created, err)
	}
	if stored.Revision != 1 || stored.RevisionRaised {
		t.Errorf("PutScan again returned revision %d raised %v, want the first try's 1, false", stored.Revision, stored.RevisionRaised)
	}
	got, err := s.Scan(ctx, site, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.FinishedAt.Equal(run.FinishedAt) || got.Report == nil || !reflect.DeepEqual(got.Report.Items, run.Report.Items) ||
		got.Diff == nil || len(got.Diff.NewCategories) != 1 {
		t.Errorf("Scan = %+v, want the stored run with its report and diff", got)
	}
	latest, err := s.LatestScan(ctx, site)
	if err != nil || latest.ID != run.ID || latest.Report == nil {
		t.Errorf("LatestScan = %s (report %v), %v", latest.ID, latest.Report != nil, err)
	}
	list, err := s.Scans(ctx, site)
	if err != nil || len(list) != 1 || list[0].Report != nil || list[0].Items != 1 {
		t.Errorf("Scans = %+v, %v; want one summary without report", list, err)
	}
}

func testScanHistoryTrimmed(t *testing.T, s ScanStore) {
	ctx := context.Background()
	// Out of order: history is by finish time, not by arrival.
	for _, n := range []int{3, 1, 2, 5, 4} {
		mustPutScan(t, s, ScanRunAt(site, n), 3)
	}
	list, err := s.Scans(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(list), []string{"shop@5", "shop@4", "shop@3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Scans = %v, want %v", got, want)
	}
	if _, err := s.Scan(ctx, site, "shop@1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Scan of a trimmed run = %v, want ErrNotFound", err)
	}
	if latest, err := s.LatestScan(ctx, site); err != nil || latest.ID != "shop@5" {
		t.Errorf("LatestScan = %s, %v; want shop@5", latest.ID, err)
	}
}

func testScanNotFound(t *testing.T, s ScanStore) {
	ctx := context.Background()
	if _, err := s.LatestScan(ctx, site); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestScan with no scans = %v, want ErrNotFound", err)
	}
	if _, err := s.Scan(ctx, site, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Scan(nope) = %v, want ErrNotFound", err)
	}
	if list, err := s.Scans(ctx, site); err != nil || len(list) != 0 {
		t.Errorf("Scans with none = %v, %v", list, err)
	}
}

func testScansPerSite(t *testing.T, s ScanStore) {
	ctx := context.Background()
	mustPutScan(t, s, ScanRunAt("shop", 1), 1)
	mustPutScan(t, s, ScanRunAt("shop2", 2), 1)
	mustPutScan(t, s, ScanRunAt("sho", 3), 1)
	for _, site := range []string{"shop", "shop2", "sho"} {
		list, err := s.Scans(ctx, site)
		if err != nil || len(list) != 1 || list[0].Site != site {
			t.Errorf("Scans(%s) = %v, %v; want its own one run", site, ids(list), err)
		}
	}
}

func testScansConcurrent(t *testing.T, s ScanStore) {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
	)
	for range 8 {
		wg.Go(func() {
			_, ok, err := s.PutScan(context.Background(), ScanRunAt(site, 1), 3)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				created++
			}
		})
	}
	wg.Wait()
	if created != 1 {
		t.Errorf("%d of 8 concurrent PutScans of one run created it, want 1", created)
	}
}

func testOverrides(t *testing.T, s ScanStore) {
	ctx := context.Background()
	a := store.Override{Kind: scanner.Cookie, Name: "zq_*", Category: scanner.Marketing, Provider: "Zq", SetAt: scanEpoch}
	b := store.Override{Name: "cart", Category: scanner.Necessary, Justification: "WP194 criterion B: shopping cart", SetAt: scanEpoch}
	for _, o := range []store.Override{a, b} {
		if err := s.PutOverride(ctx, site, o); err != nil {
			t.Fatal(err)
		}
	}
	a.Category = scanner.Analytics // replaces the first: same key
	if err := s.PutOverride(ctx, site, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.Overrides(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Key() > got[1].Key() {
		t.Fatalf("Overrides = %+v, want two, ordered by key", got)
	}
	for _, o := range got {
		if o.Key() == a.Key() && (o.Category != scanner.Analytics || !o.SetAt.Equal(scanEpoch) || o.Provider != "Zq") {
			t.Errorf("override %s = %+v, want the replacement", o.Key(), o)
		}
	}
	if other, err := s.Overrides(ctx, "other"); err != nil || len(other) != 0 {
		t.Errorf("Overrides(other) = %v, %v; want none", other, err)
	}
	if err := s.DeleteOverride(ctx, site, a.Key()); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOverride(ctx, site, a.Key()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DeleteOverride = %v, want ErrNotFound", err)
	}
	if got, _ := s.Overrides(ctx, site); len(got) != 1 {
		t.Errorf("Overrides after delete = %+v, want one", got)
	}
}

func testScanSettings(t *testing.T, s ScanStore) {
	ctx := context.Background()
	if _, err := s.ScanSettings(ctx, site); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ScanSettings with none stored = %v, want ErrNotFound", err)
	}
	off := false
	want := store.ScanSettings{Schedule: "0 3 * * 1", StartURLs: []string{"https://shop.test/sv/"}, MaxPages: 20,
		Modes: []string{"none"}, Keep: 3, RaiseRevision: &off, UpdatedAt: scanEpoch}
	if err := s.PutScanSettings(ctx, site, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.ScanSettings(ctx, site)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ScanSettings = %+v, %v; want %+v", got, err, want)
	}
	if err := s.PutScanSettings(ctx, site, store.ScanSettings{MaxPages: 5}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ScanSettings(ctx, site); got.MaxPages != 5 || got.Schedule != "" || got.RaiseRevision != nil {
		t.Errorf("replaced settings = %+v, want only max_pages 5", got)
	}
	if _, err := s.ScanSettings(ctx, "other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another site's settings = %v, want ErrNotFound", err)
	}
}

package localstore_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/localstore"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/consentapi/storetest"
	bolt "go.etcd.io/bbolt"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) store.Store {
		s, err := localstore.Open(filepath.Join(tb.TempDir(), "crumb.db"), localstore.Options{NoSync: true}) // fsync is not what the suite tests
		if err != nil {
			tb.Fatal(err)
		}
		return s
	})
}

// TestNoResidue erases a consent and then lets everything expire, and
// checks the file itself: no trace of the erased visitor after erasure,
// and nothing at all after the sweep.
func TestNoResidue(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crumb.db")
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	s, err := localstore.Open(path, localstore.Options{Now: func() time.Time { return now }, SweepInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutBanner(ctx, "shop", "b1", []byte("{}"), time.Hour); err != nil {
		t.Fatal(err)
	}
	rec := func(ev, consent string) store.Record {
		r, _, err := s.Record(ctx, store.Decision{
			Record:       store.Record{EventID: ev, ConsentID: consent, Site: "shop", RecordedAt: now, Action: store.AcceptAll, Banner: "b1", Categories: map[string]bool{"necessary": true}},
			NewConsentID: "id-" + ev, Retention: 24 * time.Hour,
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := rec("visitor-a-event-1", "")
	rec("visitor-a-event-2", a.ConsentID)
	rec("visitor-b-event-1", "")
	if err := s.Impression(ctx, "shop", now, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(ctx, "shop", a.ConsentID); err != nil {
		t.Fatal(err)
	}
	if n := dump(t, s, path, "visitor-a", a.ConsentID); n == 0 {
		t.Fatal("the file is empty: the other visitor's records are missing")
	}

	now = now.Add(3 * 24 * time.Hour)
	s, err = localstore.Open(path, localstore.Options{Now: func() time.Time { return now }, SweepInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(); err != nil || n == 0 {
		t.Fatalf("sweep handled %d entries, err=%v", n, err)
	}
	if n := dump(t, s, path, "", ""); n != 0 {
		t.Errorf("%d keys left after everything expired", n)
	}
}

// dump closes s, fails the test for any key or value containing one of
// the forbidden strings, and returns how many data keys (outside the
// expiry and sites buckets) there are.
func dump(t *testing.T, s *localstore.Store, path string, forbidden ...string) int {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			return bk.ForEach(func(k, v []byte) error {
				for _, f := range forbidden {
					if f != "" && (bytes.Contains(k, []byte(f)) || bytes.Contains(v, []byte(f))) {
						t.Errorf("bucket %s still holds %q: key %q", name, f, k)
					}
				}
				if string(name) != "expiry" && string(name) != "sites" {
					n++
				}
				return nil
			})
		})
	})
	return n
}

package localstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
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
	if err := s.PutBanner(ctx, "shop", storetest.Banner, []byte("{}"), time.Hour); err != nil {
		t.Fatal(err)
	}
	rec := func(ev, consent string) store.Record {
		d := storetest.Decision(ev, consent, now)
		d.Retention = 24 * time.Hour
		r, _, err := s.Record(ctx, d)
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
// expiry, sites and meta buckets) there are.
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
				if string(name) != "expiry" && string(name) != "sites" && string(name) != "meta" {
					n++
				}
				return nil
			})
		})
	})
	return n
}

// TestEraseCompactsFile checks the file's bytes, free pages included: the
// erased visitor is still there right after the erasure (bbolt keeps
// freed pages as they were), and gone once the store has compacted the
// file by itself; decisions recorded during a compaction are all kept.
func TestEraseCompactsFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crumb.db")
	s, err := localstore.Open(path, localstore.Options{CompactAfterErase: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.PutBanner(t, s, "shop")
	rec := func(ev string) (store.Record, error) {
		r, _, err := s.Record(ctx, storetest.Decision(ev, "", time.Now().UTC()))
		return r, err
	}
	must := func(r store.Record, err error) store.Record {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	raw := func() []byte {
		f, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	// compacted waits until the file at path is a new one (Compact renames
	// a fresh copy over it).
	compacted := func() {
		t.Helper()
		before, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if now, err := os.Stat(path); err == nil && !os.SameFile(before, now) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("no compaction within 20s of an erasure")
			}
		}
	}

	a := must(rec("visitor-a-event-1"))
	b := must(rec("visitor-b-event-1"))
	if err := s.Erase(ctx, "shop", a.ConsentID); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw(), []byte(a.ConsentID)) {
		t.Fatal("right after the erasure the file holds no trace of it: this test cannot see residue")
	}
	compacted()
	file := raw()
	for _, gone := range []string{a.ConsentID, "visitor-a-event-1"} {
		if bytes.Contains(file, []byte(gone)) {
			t.Errorf("after compaction the file still holds %q", gone)
		}
	}
	if !bytes.Contains(file, []byte(b.ConsentID)) {
		t.Errorf("after compaction the file lost %q, which was not erased", b.ConsentID)
	}

	// Decisions keep coming while the store compacts again.
	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ev := fmt.Sprintf("during-%d-%d", w, i)
				if _, err := rec(ev); err != nil {
					t.Errorf("%s: %v", ev, err)
					return
				}
				mu.Lock()
				acked = append(acked, ev)
				mu.Unlock()
			}
		})
	}
	if err := s.Erase(ctx, "shop", b.ConsentID); err != nil {
		t.Fatal(err)
	}
	compacted()
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	for _, ev := range acked {
		if got, err := s.Consent(ctx, "shop", "consent-of-"+ev); err != nil || len(got) != 1 {
			t.Errorf("%s, acknowledged around a compaction: %d records, err %v", ev, len(got), err)
		}
	}
	if _, err := s.Consent(ctx, "shop", b.ConsentID); err == nil {
		t.Error("visitor b is readable after erasure")
	}
	t.Logf("%d decisions acknowledged around a compaction, all kept", len(acked))
}

// BenchmarkCompact measures the pause a compaction after erasure puts on
// the store: the time to compact a file holding 100,000 decisions.
//
//	go test -run '^$' -bench Compact -benchtime 3x ./consentapi/localstore
func BenchmarkCompact(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "crumb.db")
	s, err := localstore.Open(path, localstore.Options{CompactAfterErase: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.PutBanner(b, s, "shop")
	const decisions, writers = 100_000, 64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range decisions / writers {
				ev := fmt.Sprintf("event-%02d-%08d", w, i)
				if _, _, err := s.Record(ctx, storetest.Decision(ev, "", time.Now().UTC())); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	before, _ := os.Stat(path)
	for b.Loop() {
		if err := s.Compact(); err != nil {
			b.Fatal(err)
		}
	}
	after, _ := os.Stat(path)
	b.ReportMetric(float64(before.Size())/(1<<20), "MB-before")
	b.ReportMetric(float64(after.Size())/(1<<20), "MB-after")
}

// TestEraseCompactionSurvivesRestart stops the store after an erasure and
// before the compaction that follows it: the next start still compacts, so
// a restart cannot leave the erased consent on the file's free pages.
func TestEraseCompactionSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crumb.db")
	s, err := localstore.Open(path, localstore.Options{CompactAfterErase: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	storetest.PutBanner(t, s, "shop")
	a, _, err := s.Record(ctx, storetest.Decision("visitor-a-event-1", "", time.Now().UTC()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(ctx, "shop", a.ConsentID); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(path); !bytes.Contains(raw, []byte(a.ConsentID)) {
		t.Fatal("right after the erasure the file holds no trace of it: this test cannot see residue")
	}

	s, err = localstore.Open(path, localstore.Options{CompactAfterErase: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if now, err := os.Stat(path); err == nil && !os.SameFile(before, now) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no compaction within 20s of a start that followed an erasure")
		}
	}
	// Wait for the compaction's end (it holds the store) before reading.
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(a.ConsentID)) {
		t.Errorf("after the compaction the file still holds %q", a.ConsentID)
	}
	// The mark is cleared: a further start does not compact again.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again, _ := os.Stat(path)
	s, err = localstore.Open(path, localstore.Options{CompactAfterErase: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	if now, err := os.Stat(path); err != nil || !os.SameFile(again, now) {
		t.Errorf("a start after the compaction compacted again (stat err %v)", err)
	}
}

// TestFileCannotGrow fills the file up to a size limit, as a full disk
// does: decisions that cannot be written answer store.ErrUnavailable (503,
// counted as a store error), nothing acknowledged is lost, and the store
// takes decisions again by itself once the file can grow. The limit
// (RLIMIT_FSIZE) is per process, so the test runs itself in a child.
func TestFileCannotGrow(t *testing.T) {
	dir := os.Getenv("CRUMB_TEST_FSIZE_DIR")
	if dir == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileCannotGrow$", "-test.v")
		cmd.Env = append(os.Environ(), "CRUMB_TEST_FSIZE_DIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--- PASS: TestFileCannotGrow")) {
			t.Fatalf("child: %v\n%s", err, out)
		}
		t.Logf("child:\n%s", out)
		return
	}
	signal.Ignore(syscall.SIGXFSZ) // EFBIG instead of the signal's default
	ctx := context.Background()
	path := filepath.Join(dir, "crumb.db")
	s, err := localstore.Open(path, localstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.PutBanner(t, s, "shop")
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	full := lim
	full.Cur = 256 << 10
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &full); err != nil {
		t.Fatal(err)
	}
	var acked []store.Record
	refused := 0
	for i := 0; i < 5000 && refused < 20; i++ {
		r, _, err := s.Record(ctx, storetest.Decision(fmt.Sprintf("full-disk-event-%06d", i), "", time.Now().UTC()))
		switch {
		case err == nil:
			acked = append(acked, r)
		case errors.Is(err, store.ErrUnavailable):
			refused++
		default:
			t.Fatalf("decision %d on a file that cannot grow: %v, want ErrUnavailable", i, err)
		}
	}
	if refused == 0 {
		t.Fatalf("%d decisions fit under the limit: this test cannot see a full file", len(acked))
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	var after error
	for i := range 3 { // the first may meet the mapping lost and reopen it
		if _, _, after = s.Record(ctx, storetest.Decision(fmt.Sprintf("after-event-%06d", i), "", time.Now().UTC())); after == nil {
			break
		}
	}
	if after != nil {
		t.Fatalf("after the file can grow again: %v", after)
	}
	for _, r := range acked {
		if recs, err := s.Consent(ctx, "shop", r.ConsentID); err != nil || len(recs) != 1 {
			t.Fatalf("acknowledged %s: %d records, err %v", r.EventID, len(recs), err)
		}
	}
	t.Logf("%d acknowledged, then %d refused as unavailable; all acknowledged kept", len(acked), refused)
}

package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/consentapi/storetest"
)

func TestStore(t *testing.T) {
	srv := redistest.Start(t)
	storetest.Run(t, func(tb testing.TB) store.Store {
		return open(tb, srv.URL())
	})
}

func open(tb testing.TB, url string) *redisstore.Store {
	tb.Helper()
	c, err := redisstore.Dial(url)
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		tb.Fatal(err)
	}
	s, err := redisstore.New(context.Background(), c, redisstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestRefusesWithoutAOF checks that a server with RDB only is refused.
func TestRefusesWithoutAOF(t *testing.T) {
	srv := redistest.StartWith(t, redistest.Options{Args: []string{"--appendonly", "no"}})
	c, err := redisstore.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := redisstore.New(context.Background(), c, redisstore.Options{}); !errors.Is(err, redisstore.ErrNoAOF) {
		t.Fatalf("err=%v, want ErrNoAOF", err)
	}
}

// TestFsyncPolicy checks which appendfsync policies New accepts: always by
// default, everysec only when asked, and a server that hides its policy
// only when everysec is acceptable.
func TestFsyncPolicy(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		fsync   redisstore.Fsync
		refused bool
	}{
		{"always", []string{"--appendfsync", "always"}, "", false},
		{"everysec by default", []string{"--appendfsync", "everysec"}, "", true},
		{"everysec when accepted", []string{"--appendfsync", "everysec"}, redisstore.FsyncEverysec, false},
		{"no", []string{"--appendfsync", "no"}, redisstore.FsyncEverysec, true},
		{"CONFIG hidden, always wanted", []string{"--rename-command", "CONFIG", ""}, redisstore.FsyncAlways, true},
		{"CONFIG hidden, everysec accepted", []string{"--rename-command", "CONFIG", ""}, redisstore.FsyncEverysec, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.StartWith(t, redistest.Options{Args: tt.args})
			c, err := redisstore.Dial(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			s, err := redisstore.New(context.Background(), c, redisstore.Options{Fsync: tt.fsync})
			if tt.refused {
				if !errors.Is(err, redisstore.ErrWeakFsync) {
					t.Fatalf("err=%v, want ErrWeakFsync", err)
				}
				c.Close()
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
		})
	}
	if _, err := redisstore.ParseFsync("no"); err == nil {
		t.Error(`ParseFsync("no") succeeded; want an error`)
	}
}

// TestEraseRewritesAOF checks that an erased consent leaves the AOF files
// too, by the rewrite the store asks for after an erasure (R39), while
// another visitor's records stay.
func TestEraseRewritesAOF(t *testing.T) {
	ctx := context.Background()
	// Uncompressed RDB strings, so that the AOF's RDB base shows every id.
	srv := redistest.StartWith(t, redistest.Options{Args: []string{"--rdbcompression", "no"}})
	c, err := redisstore.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	s, err := redisstore.New(ctx, c, redisstore.Options{RewriteAfterErase: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.PutBanner(t, s, "shop")
	rec := func(ev, consent string) store.Record {
		r, _, err := s.Record(ctx, storetest.Decision(ev, consent, time.Now().UTC()))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := rec("visitor-a-event-1", "")
	rec("visitor-a-event-2", a.ConsentID)
	b := rec("visitor-b-event-1", "")
	if err := s.Erase(ctx, "shop", a.ConsentID); err != nil {
		t.Fatal(err)
	}
	aof := func() []byte {
		var all []byte
		files, _ := filepath.Glob(filepath.Join(srv.Dir(), "appendonlydir", "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil && !errors.Is(err, os.ErrNotExist) { // a rewrite may remove it meanwhile
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
	}
	if !bytes.Contains(aof(), []byte("visitor-a-event-1")) {
		t.Fatal("right after the erasure the AOF holds no trace of it: this test cannot see residue")
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		info := c.Info(ctx, "persistence").Val()
		if strings.Contains(info, "aof_rewrite_in_progress:0") && !strings.Contains(info, "aof_rewrites:0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no AOF rewrite within 20s of the erasure:\n%s", info)
		}
	}
	files := aof()
	for _, gone := range []string{a.ConsentID, "visitor-a-event-1", "visitor-a-event-2"} {
		if bytes.Contains(files, []byte(gone)) {
			t.Errorf("after the rewrite the AOF still holds %q", gone)
		}
	}
	for _, kept := range []string{b.ConsentID, "visitor-b-event-1"} {
		if !bytes.Contains(files, []byte(kept)) {
			t.Errorf("after the rewrite the AOF lost %q, which was not erased", kept)
		}
	}
}

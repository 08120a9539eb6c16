package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/consentapi/storetest"
	"github.com/redis/go-redis/v9"
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
	srv, c, s := startErasable(t, 2*time.Second)
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
	aof := func() []byte { return readAOF(t, srv.Dir()) }
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

// TestEraseRewriteRetried checks that a rewrite which Redis accepted but
// which then failed (here its child is killed) is asked for again, so the
// erased consent still leaves the AOF.
func TestEraseRewriteRetried(t *testing.T) {
	ctx := context.Background()
	srv, c, s := startErasable(t, 300*time.Millisecond)
	a, _, err := s.Record(ctx, storetest.Decision("visitor-a-event-1", "", time.Now().UTC()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Record(ctx, storetest.Decision("visitor-b-event-1", "", time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	// Slow the rewrite's child down (a second per key) so it can be killed.
	if err := c.ConfigSet(ctx, "rdb-key-save-delay", "1000000").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(ctx, "shop", a.ConsentID); err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(infoValue(c.Info(ctx, "server").Val(), "process_id"))
	if err != nil {
		t.Fatal(err)
	}
	child := waitFor(t, "the rewrite's child process", func() (int, bool) {
		p := childOf(t, pid)
		return p, p != 0
	})
	if err := syscall.Kill(child, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failed rewrite", func() (string, bool) {
		info := c.Info(ctx, "persistence").Val()
		return info, strings.Contains(info, "aof_last_bgrewrite_status:err")
	})
	if err := c.ConfigSet(ctx, "rdb-key-save-delay", "0").Err(); err != nil {
		t.Fatal(err)
	}
	files := waitFor(t, "a rewrite without the erased consent", func() ([]byte, bool) {
		info := c.Info(ctx, "persistence").Val()
		if !strings.Contains(info, "aof_rewrite_in_progress:0") || !strings.Contains(info, "aof_last_bgrewrite_status:ok") {
			return nil, false
		}
		b := readAOF(t, srv.Dir())
		return b, !bytes.Contains(b, []byte("visitor-a-event-1"))
	})
	if !bytes.Contains(files, []byte("visitor-b-event-1")) {
		t.Error("after the rewrite the AOF lost visitor-b-event-1, which was not erased")
	}
}

// startErasable starts a Redis whose RDB strings are uncompressed (so the
// AOF's RDB base shows every id) and a store on it, with site "shop"'s
// banner, that asks for a rewrite at most every after an erasure.
func startErasable(t *testing.T, every time.Duration) (*redistest.Server, redis.UniversalClient, *redisstore.Store) {
	t.Helper()
	srv := redistest.StartWith(t, redistest.Options{Args: []string{"--rdbcompression", "no"}})
	c, err := redisstore.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	s, err := redisstore.New(context.Background(), c, redisstore.Options{RewriteAfterErase: every})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	storetest.PutBanner(t, s, "shop")
	return srv, c, s
}

// waitFor polls cond for up to 20 s and returns its value once it holds.
func waitFor[T any](t *testing.T, what string, cond func() (T, bool)) T {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if v, ok := cond(); ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 20s for %s", what)
		}
	}
}

// childOf returns the pid of a child process of pid, 0 if none (Linux).
func childOf(t *testing.T, pid int) int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid …; comm may hold spaces, so parse after ")".
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			n, _ := strconv.Atoi(strings.Fields(string(b))[0])
			return n
		}
	}
	return 0
}

// readAOF returns the contents of every file in dir's appendonlydir.
func readAOF(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	files, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) { // a rewrite may remove it meanwhile
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func infoValue(info, name string) string {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return v
		}
	}
	return ""
}

// TestRefusesClusterNode checks that a redis:// URL naming one node of a
// Redis Cluster is refused at start (it would serve only the sites whose
// slot that node holds), and that the cluster's own URL is taken.
func TestRefusesClusterNode(t *testing.T) {
	cl := redistest.StartCluster(t)
	c, err := redisstore.Dial("redis://" + cl.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := redisstore.New(context.Background(), c, redisstore.Options{}); !errors.Is(err, redisstore.ErrClusterNode) {
		t.Errorf("redis:// to a cluster node: err=%v, want ErrClusterNode", err)
	}
	c.Close()
	c, err = redisstore.Dial(cl.URL())
	if err != nil {
		t.Fatal(err)
	}
	s, err := redisstore.New(context.Background(), c, redisstore.Options{})
	if err != nil {
		t.Fatalf("redis-cluster:// URL: %v", err)
	}
	s.Close()
}

// twoVisitors stores the banner and one decision each of visitors a and b.
func twoVisitors(t *testing.T, s *redisstore.Store) (a, b store.Record) {
	t.Helper()
	storetest.PutBanner(t, s, "shop")
	var err error
	for _, v := range []struct {
		rec *store.Record
		ev  string
	}{{&a, "visitor-a-event-1"}, {&b, "visitor-b-event-1"}} {
		if *v.rec, _, err = s.Record(context.Background(), storetest.Decision(v.ev, "", time.Now().UTC())); err != nil {
			t.Fatal(err)
		}
	}
	return a, b
}

// waitRewritten waits until the AOF in dir no longer holds gone (after a
// rewrite asked for by the store) and fails if it lost kept.
func waitRewritten(t *testing.T, dir string, gone, kept string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		aof := readAOF(t, dir)
		if !bytes.Contains(aof, []byte(gone)) {
			if !bytes.Contains(aof, []byte(kept)) {
				t.Errorf("after the rewrite the AOF in %s lost %q, which was not erased", dir, kept)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the AOF in %s still holds %q 20s after the erasure", dir, gone)
		}
	}
}

// TestEraseRewriteSurvivesRestart stops the store after an erasure and
// before the AOF rewrite that follows it: the next start still rewrites.
func TestEraseRewriteSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	srv := redistest.StartWith(t, redistest.Options{Args: []string{"--rdbcompression", "no"}})
	openStore := func(every time.Duration) (redis.UniversalClient, *redisstore.Store) {
		c, err := redisstore.Dial(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		s, err := redisstore.New(ctx, c, redisstore.Options{RewriteAfterErase: every})
		if err != nil {
			t.Fatal(err)
		}
		return c, s
	}
	_, s := openStore(time.Hour)
	a, b := twoVisitors(t, s)
	if err := s.Erase(ctx, "shop", a.ConsentID); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if !bytes.Contains(readAOF(t, srv.Dir()), []byte(a.ConsentID)) {
		t.Fatal("right after the erasure the AOF holds no trace of it: this test cannot see residue")
	}

	c, s := openStore(300 * time.Millisecond)
	defer s.Close()
	waitRewritten(t, srv.Dir(), a.ConsentID, b.ConsentID)
	waitFor(t, "the erase-pending mark to be cleared", func() (bool, bool) {
		n, err := c.Exists(ctx, "crumb:erase-pending").Result()
		return true, err == nil && n == 0
	})
}

// TestEraseRewritesReplicaAOF checks that a replica's AOF, which keeps the
// erased records' commands as the master's did, is rewritten too.
func TestEraseRewritesReplicaAOF(t *testing.T) {
	ctx := context.Background()
	master := redistest.StartWith(t, redistest.Options{TCP: true, Args: []string{"--rdbcompression", "no"}})
	host, port, _ := strings.Cut(master.Addr(), ":")
	replica := redistest.StartWith(t, redistest.Options{TCP: true, Args: []string{"--rdbcompression", "no", "--replicaof", host, port}})
	c, err := redisstore.Dial(master.URL())
	if err != nil {
		t.Fatal(err)
	}
	s, err := redisstore.New(ctx, c, redisstore.Options{RewriteAfterErase: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, b := twoVisitors(t, s)
	waitFor(t, "the replica's AOF to hold the records", func() (bool, bool) {
		return true, bytes.Contains(readAOF(t, replica.Dir()), []byte(a.ConsentID))
	})
	if err := s.Erase(ctx, "shop", a.ConsentID); err != nil {
		t.Fatal(err)
	}
	waitRewritten(t, master.Dir(), a.ConsentID, b.ConsentID)
	waitRewritten(t, replica.Dir(), a.ConsentID, b.ConsentID)
}

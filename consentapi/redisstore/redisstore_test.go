package redisstore_test

import (
	"context"
	"errors"
	"testing"

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

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

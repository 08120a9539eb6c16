package redisstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/redis/go-redis/v9"
)

func TestDial(t *testing.T) {
	c, err := redisstore.Dial("redis://127.0.0.1:6379/2")
	if err != nil {
		t.Fatal(err)
	}
	o := c.(*redis.Client).Options()
	if o.Addr != "127.0.0.1:6379" || o.DB != 2 || o.ReadTimeout != redisstore.ReadTimeout || o.MaxRetries != redisstore.MaxRetries || !o.ContextTimeoutEnabled {
		t.Errorf("standalone options: addr=%s db=%d read=%v retries=%d", o.Addr, o.DB, o.ReadTimeout, o.MaxRetries)
	}
	c.Close()

	c, err = redisstore.Dial("redis://127.0.0.1:6379?read_timeout=3s")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.(*redis.Client).Options().ReadTimeout; got != 3*time.Second {
		t.Errorf("read_timeout from the URL: %v, want 3s", got)
	}
	c.Close()

	c, err = redisstore.Dial("redis-cluster://n1:7000,n2:7001,n3:7002")
	if err != nil {
		t.Fatal(err)
	}
	co := c.(*redis.ClusterClient).Options()
	if !slices.Equal(co.Addrs, []string{"n1:7000", "n2:7001", "n3:7002"}) || co.WriteTimeout != redisstore.WriteTimeout {
		t.Errorf("cluster options: addrs=%v write=%v", co.Addrs, co.WriteTimeout)
	}
	c.Close()

	c, err = redisstore.Dial("redis-sentinel://:secret@s1:26379,s2:26379/mymaster/1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*redis.Client); !ok {
		t.Errorf("sentinel client is %T, want a failover *redis.Client", c)
	}
	c.Close()

	for _, bad := range []string{"http://x", "redis-sentinel://s1:26379", "redis-cluster:///", "redis://x?nonsense=1"} {
		if c, err := redisstore.Dial(bad); err == nil {
			c.Close()
			t.Errorf("Dial(%q) succeeded", bad)
		}
	}
}

package redisstore

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timeouts and retries set on every client Dial makes, unless the URL sets
// them (go-redis query parameters such as dial_timeout, read_timeout,
// max_retries).
const (
	DialTimeout     = 2 * time.Second
	ReadTimeout     = time.Second
	WriteTimeout    = time.Second
	PoolTimeout     = 2 * time.Second
	MaxRetries      = 2
	MinRetryBackoff = 8 * time.Millisecond
	MaxRetryBackoff = 256 * time.Millisecond
)

// Dial makes a client from one URL; the scheme picks the deployment:
//
//	redis://[user:pass@]host:6379[/db]      a standalone server (rediss:// for TLS)
//	unix:///run/redis.sock[?db=0]            a standalone server on a unix socket
//	redis-sentinel://[user:pass@]s1:26379[,s2:26379…]/mymaster[?db=0]
//	                                         the master Sentinel names mymaster
//	                                         (rediss-sentinel:// for TLS)
//	redis-cluster://[user:pass@]n1:6379[,n2:6379…]
//	                                         a Redis Cluster (rediss-cluster:// for TLS)
//
// go-redis query parameters (dial_timeout, read_timeout, pool_size, …) are
// honoured. The returned client has explicit timeouts and retries.
func Dial(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		setTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.MinRetryBackoff, &o.MaxRetryBackoff)
		o.ContextTimeoutEnabled = true
		return redis.NewClient(o), nil
	case "redis-sentinel", "rediss-sentinel":
		hosts, master, db, ok := splitHosts(u)
		if !ok || master == "" {
			return nil, fmt.Errorf("redis url: want %s://host:26379[,host:26379…]/mastername[/db]", u.Scheme)
		}
		q := u.Query()
		q.Set("master_name", master)
		for _, h := range hosts[1:] {
			q.Add("addr", h)
		}
		base := *u
		base.Scheme = strings.TrimSuffix(u.Scheme, "-sentinel")
		base.Host, base.Path, base.RawQuery = hosts[0], "/"+db, q.Encode()
		o, err := redis.ParseFailoverURL(base.String())
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		setTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.MinRetryBackoff, &o.MaxRetryBackoff)
		o.ContextTimeoutEnabled = true
		return redis.NewFailoverClient(o), nil
	case "redis-cluster", "rediss-cluster":
		hosts, _, _, ok := splitHosts(u)
		if !ok {
			return nil, fmt.Errorf("redis url: want %s://host:6379[,host:6379…]", u.Scheme)
		}
		q := u.Query()
		for _, h := range hosts[1:] {
			q.Add("addr", h)
		}
		base := *u
		base.Scheme = strings.TrimSuffix(u.Scheme, "-cluster")
		base.Host, base.Path, base.RawQuery = hosts[0], "", q.Encode()
		o, err := redis.ParseClusterURL(base.String())
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		setTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.MinRetryBackoff, &o.MaxRetryBackoff)
		o.ContextTimeoutEnabled = true
		return redis.NewClusterClient(o), nil
	default:
		return nil, fmt.Errorf("redis url: scheme %q: want redis, rediss, unix, redis-sentinel or redis-cluster", u.Scheme)
	}
}

// splitHosts reads the comma-separated hosts and the path segments
// (master name, db) of a sentinel or cluster URL.
func splitHosts(u *url.URL) (hosts []string, first, second string, ok bool) {
	for _, h := range strings.Split(u.Host, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) > 2 {
		return nil, "", "", false
	}
	first = parts[0]
	if len(parts) == 2 {
		second = parts[1]
	}
	return hosts, first, second, len(hosts) > 0
}

func setTimeouts(dial, read, write, pool *time.Duration, retries *int, minB, maxB *time.Duration) {
	def := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	def(dial, DialTimeout)
	def(read, ReadTimeout)
	def(write, WriteTimeout)
	def(pool, PoolTimeout)
	def(minB, MinRetryBackoff)
	def(maxB, MaxRetryBackoff)
	if *retries == 0 {
		*retries = MaxRetries
	}
}

// Package redisstore is the store.Store on Redis, through go-redis v9's
// UniversalClient: a standalone server, a Sentinel-managed master or a
// Cluster, chosen by the URL given to Dial. Each decision is one Lua script
// (EVALSHA) that is idempotent by event id; concurrent decisions are
// coalesced into one pipelined round trip (group commit). keys.go documents
// the key schema. New refuses a server without append-only persistence (an
// RDB snapshot alone loses the last minutes of proofs on a crash) and, by
// default, one that does not fsync the AOF before it answers.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/redis/go-redis/v9"
)

var _ store.Store = (*Store)(nil)

// ErrNoAOF is returned by New when a master has appendonly off.
var ErrNoAOF = errors.New("redis persistence: appendonly is off; crumb needs AOF (appendonly yes) so that acknowledged proofs survive a crash")

// ErrClusterNode is returned by New when a URL for one server leads to a
// node of a Redis Cluster.
var ErrClusterNode = errors.New("redis: this server is a node of a Redis Cluster (cluster_enabled:1); give its nodes as redis-cluster://host:port[,host:port…]")

// ErrWeakFsync is returned by New when a master's appendfsync policy is
// weaker than Options.Fsync asks for, or cannot be read.
var ErrWeakFsync = errors.New("redis persistence: fsync policy refused")

// Fsync is the weakest appendfsync policy New accepts.
type Fsync string

const (
	// FsyncAlways: Redis writes and fsyncs the AOF before it sends a
	// reply, so every acknowledged decision survives a crash of Redis or
	// of its machine. The default.
	FsyncAlways Fsync = "always"
	// FsyncEverysec also accepts appendfsync everysec, Redis's default:
	// while a background fsync is slow Redis holds back writing the AOF
	// for up to 2 s but answers anyway, so a crash of Redis (not only of
	// its machine) can lose about 2 s of acknowledged decisions.
	FsyncEverysec Fsync = "everysec"
)

// ParseFsync reads "always" or "everysec".
func ParseFsync(s string) (Fsync, error) {
	switch f := Fsync(s); f {
	case FsyncAlways, FsyncEverysec:
		return f, nil
	}
	return "", fmt.Errorf("redis fsync %q: want always or everysec", s)
}

// Options tune a Store. The zero value is ready for production.
type Options struct {
	// OpTimeout bounds each store operation, including waiting for a
	// batch; default 2s.
	OpTimeout time.Duration
	// Committers is the number of pipelines that may be in flight at once;
	// default 2.
	Committers int
	// MaxBatch bounds the decisions in one pipeline; default 256.
	MaxBatch int
	// Fsync is the weakest appendfsync policy accepted on a master;
	// default FsyncAlways.
	Fsync Fsync
	// RewriteAfterErase bounds how long erased data stays in the AOF: at
	// most this long after an erasure the store asks every master for
	// BGREWRITEAOF (R39). Default 1h; negative turns it off.
	RewriteAfterErase time.Duration
	Logger            *slog.Logger
}

// Store is a store.Store on Redis.
type Store struct {
	c      redis.UniversalClient
	opts   Options
	logger *slog.Logger
	queue  chan *pending
	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	erased atomic.Bool   // an erasure since the last AOF rewrite was asked for
	stop   chan struct{} // closed by Close: ends the rewrite loop
	wg     sync.WaitGroup
}

// New checks that every master has append-only persistence on, loads the
// scripts and starts the group committers. The Store owns c from then on
// and closes it in Close.
func New(ctx context.Context, c redis.UniversalClient, opts Options) (*Store, error) {
	if opts.OpTimeout <= 0 {
		opts.OpTimeout = 2 * time.Second
	}
	if opts.Committers <= 0 {
		opts.Committers = 2
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Fsync == "" {
		opts.Fsync = FsyncAlways
	}
	if opts.RewriteAfterErase == 0 {
		opts.RewriteAfterErase = time.Hour
	}
	if err := CheckPersistence(ctx, c, opts.Fsync); err != nil {
		return nil, err
	}
	for _, sc := range scripts {
		if err := loadScript(ctx, c, sc); err != nil {
			return nil, fmt.Errorf("load scripts: %w", unavailable(err))
		}
	}
	s := &Store{c: c, opts: opts, logger: opts.Logger, queue: make(chan *pending, 4096), stop: make(chan struct{})}
	for range opts.Committers {
		s.wg.Go(s.commitLoop)
	}
	if opts.RewriteAfterErase > 0 {
		s.wg.Go(s.rewriteLoop)
	}
	return s, nil
}

// eachMaster calls fn with every master of a cluster, or with the server.
func eachMaster(ctx context.Context, c redis.UniversalClient, fn func(context.Context, redis.Cmdable) error) error {
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return fn(ctx, m) })
	}
	return fn(ctx, c)
}

// loadScript loads sc on every master of a cluster, or on the server.
func loadScript(ctx context.Context, c redis.UniversalClient, sc *redis.Script) error {
	return eachMaster(ctx, c, func(ctx context.Context, m redis.Cmdable) error { return sc.Load(ctx, m).Err() })
}

// CheckPersistence returns ErrNoAOF unless INFO persistence reports
// aof_enabled:1 on every master, and ErrWeakFsync unless every master's
// appendfsync is at least as strong as want. With want FsyncEverysec a
// server that refuses CONFIG GET (a managed Redis, an ACL) passes on its
// AOF alone; FsyncAlways must see the policy.
func CheckPersistence(ctx context.Context, c redis.UniversalClient, want Fsync) error {
	if _, ok := c.(*redis.ClusterClient); !ok {
		// A node of a cluster answers a standalone client for its own
		// slots only: every site whose slot is elsewhere would fail.
		info, err := c.Info(ctx, "cluster").Result()
		if err != nil {
			return fmt.Errorf("redis cluster info: %w", unavailable(err))
		}
		if infoField(info, "cluster_enabled") == "1" {
			return ErrClusterNode
		}
	}
	check := func(ctx context.Context, m redis.Cmdable) error {
		info, err := m.Info(ctx, "persistence").Result()
		if err != nil {
			return fmt.Errorf("redis persistence: %w", unavailable(err))
		}
		if !strings.Contains(info, "aof_enabled:1") {
			return ErrNoAOF
		}
		cfg, err := m.ConfigGet(ctx, "appendfsync").Result()
		var refused redis.Error
		if err != nil && !errors.As(err, &refused) {
			return fmt.Errorf("redis persistence: %w", unavailable(err))
		}
		switch policy := cfg["appendfsync"]; {
		case err != nil && want == FsyncAlways:
			return fmt.Errorf("%w: cannot read appendfsync (CONFIG GET: %v); crumb needs appendfsync always, or -redis-fsync everysec to accept losing about 2 s of acknowledged decisions if Redis crashes", ErrWeakFsync, err)
		case err != nil:
			return nil
		case policy == string(FsyncAlways), policy == string(FsyncEverysec) && want == FsyncEverysec:
			return nil
		case want == FsyncAlways:
			return fmt.Errorf("%w: appendfsync is %q; crumb needs appendfsync always so that no acknowledged decision is lost if Redis crashes, or -redis-fsync everysec to accept losing about 2 s of them", ErrWeakFsync, policy)
		default:
			return fmt.Errorf("%w: appendfsync is %q; crumb needs always or everysec", ErrWeakFsync, policy)
		}
	}
	return eachMaster(ctx, c, check)
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.OpTimeout)
	defer cancel()
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping: %w", unavailable(err))
	}
	return nil
}

// Close waits for the decisions queued or in flight, then closes the
// client.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.queue)
	close(s.stop)
	s.mu.Unlock()
	s.wg.Wait()
	return s.c.Close()
}

// unavailable wraps a Redis error as store.ErrUnavailable; redis.Nil,
// nil and context.Canceled pass through: a caller that gave up (a visitor
// closing the tab) is not Redis being down, while a deadline that passed
// is.
func unavailable(err error) error {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

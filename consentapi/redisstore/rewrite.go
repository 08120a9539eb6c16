package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// rewriteLoop asks every node, masters and replicas, to rewrite its AOF
// once per RewriteAfterErase when a consent was erased since the last
// time. Until then the AOF still holds the erased records' commands; a
// rewrite replaces it with the live dataset, which has none of them (R39).
// Replicas replay the erasure but keep the erased commands in their own
// AOF until they rewrite it.
//
// Erase raises crumb:erase-pending before it erases, and the loop deletes
// it only once every node has finished a rewrite asked for after it read
// the mark's value; so a crumb that stops before the rewrite, or another
// crumb on the same Redis, leaves the mark for the next tick of any
// crumb.
//
// A rewrite runs in a child process and can fail after Redis has accepted
// it (disk full, child killed), so on the next tick the loop reads every
// node's outcome and, if a rewrite failed, asks again.
func (s *Store) rewriteLoop() {
	t := time.NewTicker(s.opts.RewriteAfterErase)
	defer t.Stop()
	asked := false // a rewrite was asked for and its outcome not yet seen
	mark := ""     // the erase-pending mark read before that rewrite
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.OpTimeout)
		if asked {
			done, err := s.rewritesDone(ctx)
			switch {
			case err != nil:
				// The erased data may still be in an AOF: ask again now.
				s.erased.Store(true)
				asked = false
				s.logger.Warn("AOF rewrite after erasure failed; asking again", "err", err)
			case done:
				asked = false
				if mark != "" {
					if err := clearMarkScript.Run(ctx, s.c, []string{erasePendingKey}, mark).Err(); err != nil {
						s.logger.Warn("AOF rewrite after erasure: clear the mark", "err", err)
					}
				}
			}
		}
		if !asked {
			v, err := s.c.Get(ctx, erasePendingKey).Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				s.logger.Warn("AOF rewrite after erasure: read the mark", "err", err)
			}
			if s.erased.Swap(false) || v != "" {
				if err := s.rewriteAOF(ctx); err != nil {
					// Try again on the next tick.
					s.erased.Store(true)
					s.logger.Warn("AOF rewrite after erasure", "err", err)
				} else {
					asked, mark = true, v
				}
			}
		}
		cancel()
	}
}

// clearMarkScript deletes the erase-pending mark if it still holds
// ARGV[1]: no erasure came after the rewrite was asked for.
var clearMarkScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// rewriteAOF sends BGREWRITEAOF to every node. A rewrite already under
// way may have forked before the erasure, so it counts as a failure; one
// that Redis schedules after a running RDB save starts later and counts.
func (s *Store) rewriteAOF(ctx context.Context) error {
	return eachNode(ctx, s.c, func(ctx context.Context, m redis.Cmdable) error {
		return m.BgRewriteAOF(ctx).Err()
	})
}

// eachNode calls fn with every master and replica of a cluster, or with
// the server (a Sentinel's current master) and the replicas its INFO
// replication lists, reached with the server's credentials.
func eachNode(ctx context.Context, c redis.UniversalClient, fn func(context.Context, redis.Cmdable) error) error {
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error {
			if err := fn(ctx, n); err != nil {
				return fmt.Errorf("%s: %w", n.Options().Addr, err)
			}
			return nil
		})
	}
	if err := fn(ctx, c); err != nil {
		return err
	}
	master, ok := c.(*redis.Client)
	if !ok {
		return nil
	}
	info, err := master.Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("redis replication: %w", err)
	}
	var errs []error
	for _, addr := range replicaAddrs(info) {
		o := *master.Options()
		o.Addr, o.Dialer = addr, nil // a Sentinel client's dialer finds the master
		r := redis.NewClient(&o)
		if err := fn(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("replica %s: %w", addr, err))
		}
		r.Close()
	}
	return errors.Join(errs...)
}

// replicaAddrs reads the replicas' addresses from an INFO replication
// reply ("slave0:ip=10.0.0.2,port=6379,state=online,…").
func replicaAddrs(info string) []string {
	var out []string
	for line := range strings.Lines(info) {
		name, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "slave") || !strings.Contains(v, "ip=") {
			continue
		}
		var ip, port string
		for _, f := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(f, "=")
			switch k {
			case "ip":
				ip = val
			case "port":
				port = val
			}
		}
		if ip != "" && port != "" {
			out = append(out, net.JoinHostPort(ip, port))
		}
	}
	return out
}

// errRewriteFailed is a node's report that its last AOF rewrite failed.
var errRewriteFailed = errors.New("last AOF rewrite failed (aof_last_bgrewrite_status:err)")

// rewritesDone reports whether every node has finished the rewrite asked
// of it, and an error when one failed or cannot be asked.
func (s *Store) rewritesDone(ctx context.Context) (bool, error) {
	var busy atomic.Bool // nodes of a cluster answer concurrently
	err := eachNode(ctx, s.c, func(ctx context.Context, m redis.Cmdable) error {
		info, err := m.Info(ctx, "persistence").Result()
		if err != nil {
			return fmt.Errorf("redis persistence: %w", err)
		}
		if infoField(info, "aof_rewrite_in_progress") != "0" || infoField(info, "aof_rewrite_scheduled") != "0" {
			busy.Store(true)
			return nil
		}
		if infoField(info, "aof_last_bgrewrite_status") != "ok" {
			return errRewriteFailed
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return !busy.Load(), nil
}

// infoField returns the value of field name in an INFO reply, "" if absent.
func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

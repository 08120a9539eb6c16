package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// rewriteLoop asks every master to rewrite its AOF once per
// RewriteAfterErase when a consent was erased since the last time. Until
// then the AOF still holds the erased records' commands; a rewrite
// replaces it with the live dataset, which has none of them (R39).
//
// A rewrite runs in a child process and can fail after Redis has accepted
// it (disk full, child killed), so on the next tick the loop reads every
// master's outcome and, if a rewrite failed, asks again.
func (s *Store) rewriteLoop() {
	t := time.NewTicker(s.opts.RewriteAfterErase)
	defer t.Stop()
	asked := false // a rewrite was asked for and its outcome not yet seen
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
			}
		}
		if !asked && s.erased.Swap(false) {
			if err := s.rewriteAOF(ctx); err != nil {
				// Try again on the next tick.
				s.erased.Store(true)
				s.logger.Warn("AOF rewrite after erasure", "err", err)
			} else {
				asked = true
			}
		}
		cancel()
	}
}

// rewriteAOF sends BGREWRITEAOF to every master. A rewrite already under
// way may have forked before the erasure, so it counts as a failure; one
// that Redis schedules after a running RDB save starts later and counts.
func (s *Store) rewriteAOF(ctx context.Context) error {
	return eachMaster(ctx, s.c, func(ctx context.Context, m redis.Cmdable) error {
		return m.BgRewriteAOF(ctx).Err()
	})
}

// errRewriteFailed is a master's report that its last AOF rewrite failed.
var errRewriteFailed = errors.New("last AOF rewrite failed (aof_last_bgrewrite_status:err)")

// rewritesDone reports whether every master has finished the rewrite
// asked of it, and an error when one failed or cannot be asked.
func (s *Store) rewritesDone(ctx context.Context) (bool, error) {
	var busy atomic.Bool // masters of a cluster answer concurrently
	err := eachMaster(ctx, s.c, func(ctx context.Context, m redis.Cmdable) error {
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

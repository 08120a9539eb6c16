package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// rewriteLoop asks every master to rewrite its AOF once per
// RewriteAfterErase when a consent was erased since the last time. Until
// then the AOF still holds the erased records' commands; a rewrite
// replaces it with the live dataset, which has none of them (R39).
func (s *Store) rewriteLoop() {
	t := time.NewTicker(s.opts.RewriteAfterErase)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if !s.erased.Swap(false) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.OpTimeout)
		err := s.rewriteAOF(ctx)
		cancel()
		if err != nil {
			// Try again on the next tick: the erased data is still in an AOF.
			s.erased.Store(true)
			s.logger.Warn("AOF rewrite after erasure", "err", err)
		}
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

package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/redis/go-redis/v9"
)

// Group commit. Record puts each decision on the queue; each of
// Options.Committers committers takes all the decisions waiting (up to
// MaxBatch) and sends them in one pipelined round trip, so while one batch
// is on the wire or in Redis the next gathers and leaves on another
// connection. A decision is answered by its deadline: one that waited in
// the queue past it is answered without being sent, and a batch's round
// trip is bounded by the earliest deadline in it.

// enqueue hands p to the committers; it waits only while the queue is
// full, and not past p's deadline.
func (s *Store) enqueue(ctx context.Context, p *pending) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("%w: store closed", store.ErrUnavailable)
	}
	select {
	case s.queue <- p:
		return nil
	default:
	}
	t := time.NewTimer(time.Until(p.deadline))
	defer t.Stop()
	select {
	case s.queue <- p:
		return nil
	case <-t.C:
		return fmt.Errorf("%w: %w", store.ErrUnavailable, context.DeadlineExceeded)
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", store.ErrUnavailable, ctx.Err())
	}
}

// commitLoop takes decisions off the queue and sends all that are waiting,
// up to MaxBatch, in one pipelined round trip.
func (s *Store) commitLoop() {
	batch := make([]*pending, 0, s.opts.MaxBatch)
	for p := range s.queue {
		batch = append(batch[:0], p)
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case q, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, q)
			default:
				break fill
			}
		}
		s.commit(batch)
		clear(batch)
	}
}

// group is the decisions of one site, day and banner: one script call.
type group struct {
	site, banner string
	day          time.Time
	expiry, keep int64
	items        []*pending
}

// commit runs one batch as one script call per site, day and banner (a
// site's keys share a cluster slot), all in one pipeline, and answers
// every decision of the batch.
func (s *Store) commit(batch []*pending) {
	now := time.Now()
	live := batch[:0:0]
	deadline := now.Add(s.opts.OpTimeout)
	var groups []*group
	for _, p := range batch {
		if !p.deadline.After(now) {
			// Waited too long for a batch (Redis slow or down): answer
			// without sending; nothing was written.
			p.err = fmt.Errorf("%w: %w", store.ErrUnavailable, context.DeadlineExceeded)
			p.done <- struct{}{}
			continue
		}
		live = append(live, p)
		deadline = minTime(deadline, p.deadline)
		var g *group
		for _, h := range groups {
			if h.site == p.site && h.day.Equal(p.day) && h.banner == p.banner {
				g = h
				break
			}
		}
		if g == nil {
			g = &group{site: p.site, day: p.day, banner: p.banner}
			groups = append(groups, g)
		}
		g.expiry = max(g.expiry, p.dayExpiry)
		g.keep = max(g.keep, p.keep)
		g.items = append(g.items, p)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	err := s.exec(ctx, groups)
	if err != nil && isNoScript(err) {
		// The server lost its scripts (restart, failover, SCRIPT FLUSH):
		// load them and resend; the script is idempotent.
		if lerr := loadScript(ctx, s.c, recordScript); lerr == nil {
			err = s.exec(ctx, groups)
		}
	}
	for _, p := range live {
		if p.err == nil && p.res == nil {
			p.err = unavailable(err)
			if p.err == nil {
				p.err = fmt.Errorf("%w: no reply", store.ErrUnavailable)
			}
		}
		p.done <- struct{}{}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// exec sends one EVALSHA per group in one pipeline and hands each decision
// its answer. The command is built here rather than by Script.EvalSha so
// that the decisions' arguments go in as pointers (no copy, no boxing);
// the first key stays a string, as go-redis routes by it in a Cluster.
func (s *Store) exec(ctx context.Context, groups []*group) error {
	cmds := make([]*redis.Cmd, len(groups))
	_, err := s.c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, g := range groups {
			nkeys := scriptKeys + keysPerRecord*len(g.items)
			args := make([]any, 0, 3+nkeys+scriptArgs+argsPerRecord*len(g.items))
			args = append(args, "evalsha", recordScript.Hash(), strconv.Itoa(nkeys),
				logKey(g.site, store.Day(g.day)), aggKey(g.site, store.Day(g.day)), bannerKey(g.site, g.banner))
			for _, p := range g.items {
				args = append(args, &p.keys[0], &p.keys[1], &p.keys[2])
			}
			args = append(args, &g.expiry, &g.keep)
			for _, p := range g.items {
				args = p.appendArgs(args)
			}
			cmds[i] = redis.NewCmd(ctx, args...)
			pipe.Process(ctx, cmds[i])
		}
		return nil
	})
	noScript := false
	for i, g := range groups {
		res, cerr := cmds[i].Slice()
		for j, p := range g.items {
			p.res, p.err = nil, nil
			switch {
			case cerr != nil:
				p.err = unavailable(cerr)
				noScript = noScript || isNoScript(cerr)
			case j >= len(res):
				p.err = fmt.Errorf("%w: short script reply", store.ErrUnavailable)
			default:
				p.res = res[j]
			}
		}
	}
	if noScript {
		return fmt.Errorf("%w: NOSCRIPT", store.ErrUnavailable)
	}
	return err
}

func isNoScript(err error) bool {
	return err != nil && strings.Contains(err.Error(), "NOSCRIPT")
}

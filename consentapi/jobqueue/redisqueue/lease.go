package redisqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
)

// leaseArgs are the ARGV every ownership-checking script starts with.
func leaseArgs(d jobqueue.Delivery) []any {
	return []any{group, d.Consumer, d.Token, d.Attempt}
}

// Extend implements jobqueue.Queue.
func (q *Queue) Extend(ctx context.Context, d jobqueue.Delivery) error {
	n, err := extendScript.Run(ctx, q.rdb, []string{q.keys.stream}, leaseArgs(d)...).Int()
	if err != nil {
		return fmt.Errorf("extend %s: %w", d.Job.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("extend %s: %w", d.Job.ID, jobqueue.ErrLeaseLost)
	}
	return nil
}

// Ack implements jobqueue.Queue.
func (q *Queue) Ack(ctx context.Context, d jobqueue.Delivery) error {
	n, err := ackScript.Run(ctx, q.rdb, []string{q.keys.stream, q.keys.errors}, leaseArgs(d)...).Int()
	if err != nil {
		return fmt.Errorf("ack %s: %w", d.Job.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("ack %s: %w", d.Job.ID, jobqueue.ErrLeaseLost)
	}
	return nil
}

// Fail implements jobqueue.Queue. The backoff is set as the entry's idle
// time (XCLAIM IDLE): the entry becomes claimable once idle reaches the
// visibility timeout.
func (q *Queue) Fail(ctx context.Context, d jobqueue.Delivery, cause error) error {
	msg := "failed"
	if cause != nil {
		msg = cause.Error()
	}
	job, err := json.Marshal(d.Job)
	if err != nil {
		return fmt.Errorf("encode job: %w", err)
	}
	idle := q.opts.Visibility - q.opts.Backoff(d.Attempt)
	args := append(leaseArgs(d), msg, idle.Milliseconds(), q.opts.MaxAttempts, job, q.opts.DeadMax, q.Now().UnixMilli())
	n, err := failScript.Run(ctx, q.rdb, []string{q.keys.stream, q.keys.dead, q.keys.errors}, args...).Int()
	if err != nil {
		return fmt.Errorf("fail %s: %w", d.Job.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("fail %s: %w", d.Job.ID, jobqueue.ErrLeaseLost)
	}
	return nil
}

// releasedIdle is the idle time a released entry gets: at least the
// visibility timeout, so this queue's XAUTOCLAIM takes it at once, and a
// day, so that workers configured with a longer visibility do too. (Redis
// ignores an idle time reaching back before the epoch, so it cannot be
// "forever".)
const releasedIdle = 24 * time.Hour

// Release implements jobqueue.Queue: the entry stays pending, owned by
// jobqueue.Released, with an idle time past every worker's visibility
// timeout and its delivery count lowered by one, so the next Receive
// anywhere claims it at once (XAUTOCLAIM, before new entries) as the same
// attempt.
func (q *Queue) Release(ctx context.Context, d jobqueue.Delivery) error {
	idle := max(q.opts.Visibility, releasedIdle)
	args := append(leaseArgs(d), jobqueue.Released, idle.Milliseconds())
	n, err := releaseScript.Run(ctx, q.rdb, []string{q.keys.stream}, args...).Int()
	if err != nil {
		return fmt.Errorf("release %s: %w", d.Job.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("release %s: %w", d.Job.ID, jobqueue.ErrLeaseLost)
	}
	return nil
}

// Ping implements jobqueue.Queue.
func (q *Queue) Ping(ctx context.Context) error {
	if err := q.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("queue redis: %w", err)
	}
	return nil
}

// Stats implements jobqueue.Queue in one pipelined round trip.
func (q *Queue) Stats(ctx context.Context) (jobqueue.Stats, error) {
	if err := q.ensureGroup(ctx); err != nil {
		return jobqueue.Stats{}, err
	}
	var (
		depth, dead *redis.IntCmd
		oldest      *redis.XMessageSliceCmd
		pending     *redis.XPendingCmd
	)
	_, err := q.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		depth = p.XLen(ctx, q.keys.stream)
		oldest = p.XRangeN(ctx, q.keys.stream, "-", "+", 1)
		pending = p.XPending(ctx, q.keys.stream, group)
		dead = p.XLen(ctx, q.keys.dead)
		return nil
	})
	if err != nil {
		return jobqueue.Stats{}, fmt.Errorf("queue stats: %w", err)
	}
	p := pending.Val()
	s := jobqueue.Stats{Depth: depth.Val(), InFlight: p.Count - p.Consumers[jobqueue.Released], Dead: dead.Val()}
	if m := oldest.Val(); len(m) > 0 {
		s.OldestAge = max(q.Now().Sub(entryTime(m[0].ID)), 0)
	}
	return s, nil
}

// Dead implements jobqueue.Queue.
func (q *Queue) Dead(ctx context.Context, limit int) ([]jobqueue.DeadJob, error) {
	if limit <= 0 {
		return nil, nil
	}
	msgs, err := q.rdb.XRevRangeN(ctx, q.keys.dead, "+", "-", int64(limit)).Result()
	if err != nil {
		return nil, fmt.Errorf("read dead jobs: %w", err)
	}
	out := make([]jobqueue.DeadJob, 0, len(msgs))
	for _, m := range msgs {
		var dj jobqueue.DeadJob
		job, _ := m.Values["job"].(string)
		if err := json.Unmarshal([]byte(job), &dj.Job); err != nil {
			return nil, fmt.Errorf("decode dead job %s: %w", m.ID, err)
		}
		dj.Error, _ = m.Values["error"].(string)
		attempts, _ := m.Values["attempts"].(string)
		dj.Attempts, _ = strconv.Atoi(attempts)
		at, _ := m.Values["dead_at"].(string)
		if ms, err := strconv.ParseInt(at, 10, 64); err == nil {
			dj.DeadAt = time.UnixMilli(ms).UTC()
		}
		out = append(out, dj)
	}
	return out, nil
}

// Close implements jobqueue.Queue; the Redis client belongs to the caller.
func (q *Queue) Close() error { return nil }

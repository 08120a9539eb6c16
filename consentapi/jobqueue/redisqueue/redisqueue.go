// Package redisqueue is the jobqueue.Queue on a Redis Stream with a
// consumer group: XADD to enqueue, XREADGROUP to receive, XACK to finish,
// XAUTOCLAIM to take over jobs whose worker stopped extending its lease
// (or released them: XCLAIM with an old idle time and the count lowered),
// the stream's delivery counter for attempts, and a second stream for dead
// letters. It works on a standalone Redis, behind Sentinel and on Redis
// Cluster: every key carries one hash tag, so the queue lives in one slot.
//
// Key schema, for prefix P (default "crumb:jobs"):
//
//	{P}:stream       stream of queued jobs, field "job" = JSON; consumer group "workers"
//	{P}:dead         stream of dead jobs: job, attempts, error, entry, dead_at
//	{P}:errors       hash: entry id → last failure, while the job is retried
//	{P}:seen:<id>    string with a TTL: job id enqueued within its dedup window
package redisqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
)

// group is the consumer group every worker joins.
const group = "workers"

// Queue is a jobqueue.Queue on Redis Streams.
type Queue struct {
	rdb  redis.UniversalClient
	opts jobqueue.Options
	keys keys
	// Now is the clock used for ages and dead-letter times; leases run on
	// the Redis server's clock.
	Now func() time.Time

	groupOnce sync.Mutex
	groupMade bool
}

var _ jobqueue.Queue = (*Queue)(nil)

type keys struct{ stream, dead, errors, seenPrefix string }

// New returns a queue on rdb under prefix (empty for "crumb:jobs"). The
// consumer group is created on first use.
func New(rdb redis.UniversalClient, prefix string, opts jobqueue.Options) (*Queue, error) {
	o, err := opts.WithDefaults()
	if err != nil {
		return nil, err
	}
	if prefix == "" {
		prefix = "crumb:jobs"
	}
	if strings.ContainsAny(prefix, "{}") {
		return nil, fmt.Errorf("queue prefix %q: braces are added by the queue", prefix)
	}
	tag := "{" + prefix + "}:"
	return &Queue{
		rdb: rdb, opts: o, Now: time.Now,
		keys: keys{stream: tag + "stream", dead: tag + "dead", errors: tag + "errors", seenPrefix: tag + "seen:"},
	}, nil
}

// ensureGroup creates the consumer group (and the stream) once.
func (q *Queue) ensureGroup(ctx context.Context) error {
	q.groupOnce.Lock()
	defer q.groupOnce.Unlock()
	if q.groupMade {
		return nil
	}
	err := q.rdb.XGroupCreateMkStream(ctx, q.keys.stream, group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create consumer group: %w", err)
	}
	q.groupMade = true
	return nil
}

// Enqueue implements jobqueue.Queue.
func (q *Queue) Enqueue(ctx context.Context, job jobqueue.Job, dedup time.Duration) (bool, error) {
	if err := job.Validate(); err != nil {
		return false, err
	}
	if err := q.ensureGroup(ctx); err != nil {
		return false, err
	}
	b, err := json.Marshal(job)
	if err != nil {
		return false, fmt.Errorf("encode job: %w", err)
	}
	ttl := max(dedup, time.Millisecond).Milliseconds()
	err = enqueueScript.Run(ctx, q.rdb, []string{q.keys.stream, q.keys.seenPrefix + job.ID}, ttl, b).Err()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("enqueue %s: %w", job.ID, err)
	}
	return true, nil
}

// Receive implements jobqueue.Queue: expired leases first (XAUTOCLAIM), then
// new entries (XREADGROUP, blocking for up to the poll interval at a time).
func (q *Queue) Receive(ctx context.Context, consumer string) (jobqueue.Delivery, error) {
	if consumer == "" || consumer == jobqueue.Released {
		return jobqueue.Delivery{}, fmt.Errorf("receive: bad consumer name %q", consumer)
	}
	if err := q.ensureGroup(ctx); err != nil {
		return jobqueue.Delivery{}, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return jobqueue.Delivery{}, err
		}
		d, ok, err := q.claim(ctx, consumer)
		if err != nil || ok {
			return d, err
		}
		res, err := q.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: group, Consumer: consumer, Streams: []string{q.keys.stream, ">"},
			Count: 1, Block: q.opts.Poll,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil):
			continue
		case ctx.Err() != nil:
			return jobqueue.Delivery{}, ctx.Err()
		case err != nil:
			return jobqueue.Delivery{}, fmt.Errorf("read jobs: %w", err)
		}
		for _, s := range res {
			for _, m := range s.Messages {
				job, _ := m.Values["job"].(string)
				return q.delivery(m.ID, job, 1, consumer)
			}
		}
	}
}

// claim takes over one expired lease, if there is one.
func (q *Queue) claim(ctx context.Context, consumer string) (jobqueue.Delivery, bool, error) {
	v, err := claimScript.Run(ctx, q.rdb, []string{q.keys.stream, q.keys.dead, q.keys.errors},
		group, consumer, q.opts.Visibility.Milliseconds(), q.opts.MaxAttempts, q.opts.DeadMax, q.Now().UnixMilli()).Slice()
	switch {
	case errors.Is(err, redis.Nil):
		return jobqueue.Delivery{}, false, nil
	case err != nil:
		return jobqueue.Delivery{}, false, fmt.Errorf("claim expired jobs: %w", err)
	case len(v) != 3:
		return jobqueue.Delivery{}, false, fmt.Errorf("claim expired jobs: unexpected reply %v", v)
	}
	id, _ := v[0].(string)
	job, _ := v[1].(string)
	n, _ := v[2].(int64)
	d, err := q.delivery(id, job, int(n), consumer)
	return d, err == nil, err
}

func (q *Queue) delivery(id, job string, attempt int, consumer string) (jobqueue.Delivery, error) {
	d := jobqueue.Delivery{Attempt: attempt, Consumer: consumer, Token: id, EnqueuedAt: entryTime(id)}
	if err := json.Unmarshal([]byte(job), &d.Job); err != nil {
		return d, fmt.Errorf("decode job %s: %w", id, err)
	}
	return d, nil
}

// entryTime reads the millisecond time at the front of a stream entry id.
func entryTime(id string) time.Time {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

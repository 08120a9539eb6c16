// Package jobqueue is crumb's durable queue of scan jobs: the seam between
// whoever decides a site is due for a scan (the scheduler, an admin asking
// for a scan now) and the workers that run scans, on this machine or any
// other that reaches the same Redis.
//
// Delivery is at least once. A worker that receives a job holds a lease on
// it for the visibility timeout and extends it while it works; a worker
// that dies stops extending, and once the lease runs out another worker
// receives the job again with the attempt count raised. A worker that
// stops on purpose (a deploy) releases its job instead: the job can be
// received again at once and keeps its attempt count. A job that fails
// (or whose worker dies) MaxAttempts times moves to the dead-letter list.
// Jobs must therefore be idempotent: a scan stores its result under the
// job's ID, so running it twice stores it once.
//
// Enqueue deduplicates by job ID for a window the caller chooses, which is
// what lets any number of scheduler replicas offer the same scheduled run
// while exactly one copy is queued.
//
// Two implementations pass one conformance suite (jobqueue/queuetest):
// jobqueue/redisqueue on Redis Streams with a consumer group, and
// jobqueue/localqueue embedded in the process on a bbolt file.
package jobqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Reasons a job was enqueued.
const (
	ReasonSchedule = "schedule" // the site's scan schedule came due
	ReasonManual   = "manual"   // someone asked for a scan now
)

// Job is one unit of work: scan one site.
type Job struct {
	// ID identifies the job for deduplication and for storing its result:
	// a scheduled run is "<site>@<scheduled time>", so every replica offering
	// it names it the same.
	ID          string    `json:"id"`
	Site        string    `json:"site"`
	Reason      string    `json:"reason"`
	ScheduledAt time.Time `json:"scheduled_at"`
	// Data carries job settings the worker needs, as JSON (for scans: start
	// URLs, page limit, consent modes), so workers need no site config.
	Data json.RawMessage `json:"data,omitempty"`
}

// Validate reports a job that cannot be queued.
func (j Job) Validate() error {
	switch {
	case j.ID == "":
		return fmt.Errorf("%w: job id is empty", ErrInvalid)
	case len(j.ID) > 256:
		return fmt.Errorf("%w: job id is longer than 256 bytes", ErrInvalid)
	case j.Site == "":
		return fmt.Errorf("%w: job %q has no site", ErrInvalid, j.ID)
	case len(j.Data) > 0 && !json.Valid(j.Data):
		return fmt.Errorf("%w: job %q data is not valid JSON", ErrInvalid, j.ID)
	}
	return nil
}

// Delivery is one receipt of a job by one worker. Pass it back to Extend,
// Ack or Fail; they refuse it with ErrLeaseLost once the job has been
// delivered to someone else.
type Delivery struct {
	Job        Job
	Attempt    int // 1 on first delivery, raised on each redelivery
	EnqueuedAt time.Time
	Consumer   string
	// Token identifies the queued entry within its implementation.
	Token string
}

// DeadJob is a job that ran out of attempts.
type DeadJob struct {
	Job      Job       `json:"job"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"`
	DeadAt   time.Time `json:"dead_at"`
}

// Stats describes the queue for metrics and the admin API.
type Stats struct {
	Depth     int64         // jobs not yet finished: waiting plus in flight
	InFlight  int64         // jobs a worker holds (or held, if it died); not released ones
	OldestAge time.Duration // age of the oldest unfinished job; 0 when empty
	Dead      int64         // jobs in the dead-letter list
}

// Released is the consumer a released job belongs to until it is received
// again; Receive refuses it as a worker's name.
const Released = "(released)"

// Sentinel errors.
var (
	// ErrInvalid marks a job that cannot be queued.
	ErrInvalid = errors.New("invalid job")
	// ErrLeaseLost means the delivery's lease ran out and the job was, or
	// may now be, delivered to another worker: the caller must not treat
	// its work as the job's result.
	ErrLeaseLost = errors.New("job lease lost")
	// ErrClosed is returned by a closed queue.
	ErrClosed = errors.New("queue closed")
)

// Queue is a durable job queue. Every method is safe for concurrent use.
type Queue interface {
	// Enqueue adds job unless a job with the same ID was enqueued within
	// the last dedup (at least a millisecond). It reports whether the job
	// was added; a duplicate is not an error. Returns ErrInvalid for a job
	// that fails Validate.
	Enqueue(ctx context.Context, job Job, dedup time.Duration) (bool, error)
	// Receive waits for a job for consumer, a name unique to the worker,
	// and leases it for the visibility timeout. Jobs whose lease expired
	// come first, then new jobs in the order they were enqueued. A job
	// whose attempts are used up moves to the dead-letter list instead.
	// Returns ctx.Err() when ctx ends first.
	Receive(ctx context.Context, consumer string) (Delivery, error)
	// Extend renews the lease for another visibility timeout. Returns
	// ErrLeaseLost if the job is no longer this delivery's.
	Extend(ctx context.Context, d Delivery) error
	// Ack finishes the job and removes it. Returns ErrLeaseLost if the job
	// is no longer this delivery's; the job's result must then be dropped.
	Ack(ctx context.Context, d Delivery) error
	// Fail records cause and makes the job available again after a backoff
	// that doubles with each attempt (capped at the visibility timeout), or
	// moves it to the dead-letter list when this was its last attempt.
	// Returns ErrLeaseLost if the job is no longer this delivery's.
	Fail(ctx context.Context, d Delivery, cause error) error
	// Release gives the job back at once, for a worker that stops before
	// finishing it (a rolling deploy): the job can be received again right
	// away, by any consumer, and the attempt this delivery used is not
	// counted, so the next delivery has the same Attempt. Unlike Fail, no
	// error is recorded. The delivery must not be used after Release.
	// Returns ErrLeaseLost if the job is no longer this delivery's.
	Release(ctx context.Context, d Delivery) error
	// Ping reports whether the queue's backend answers (for readiness).
	Ping(ctx context.Context) error
	// Stats returns the queue's depth, in-flight count, oldest job age and
	// dead-letter count.
	Stats(ctx context.Context) (Stats, error)
	// Dead returns up to limit dead jobs, newest first.
	Dead(ctx context.Context, limit int) ([]DeadJob, error)
	// Close releases the queue's resources (not the Redis client it was
	// given).
	Close() error
}

package localqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
)

// owned runs fn on the delivery's record if the delivery still owns it,
// and returns ErrLeaseLost otherwise.
func (q *Queue) owned(op string, d jobqueue.Delivery, fn func(tx *bolt.Tx, key []byte, r record) error) error {
	n, err := strconv.ParseUint(d.Token, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %s: bad delivery token %q", op, d.Job.ID, d.Token)
	}
	key := seqKey(n)
	err = q.update(func(tx *bolt.Tx) error {
		r, ok, err := getRecord(tx.Bucket(bJobs), key)
		if err != nil {
			return err
		}
		if !ok || r.Owner != d.Consumer || r.Attempts != d.Attempt {
			return jobqueue.ErrLeaseLost
		}
		return fn(tx, key, r)
	})
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, d.Job.ID, err)
	}
	return nil
}

// Extend implements jobqueue.Queue.
func (q *Queue) Extend(ctx context.Context, d jobqueue.Delivery) error {
	return q.owned("extend", d, func(tx *bolt.Tx, key []byte, r record) error {
		r.Until = q.Now().Add(q.opts.Visibility)
		return putJSON(tx.Bucket(bJobs), key, r)
	})
}

// Ack implements jobqueue.Queue.
func (q *Queue) Ack(ctx context.Context, d jobqueue.Delivery) error {
	return q.owned("ack", d, func(tx *bolt.Tx, key []byte, r record) error {
		return tx.Bucket(bJobs).Delete(key)
	})
}

// Fail implements jobqueue.Queue.
func (q *Queue) Fail(ctx context.Context, d jobqueue.Delivery, cause error) error {
	msg := "failed"
	if cause != nil {
		msg = cause.Error()
	}
	// A waiting Receive notices the job again at its poll after the backoff.
	return q.owned("fail", d, func(tx *bolt.Tx, key []byte, r record) error {
		now := q.Now()
		r.Error = msg
		if r.Attempts >= q.opts.MaxAttempts {
			return q.toDead(tx, key, r, now)
		}
		r.Until = now.Add(q.opts.Backoff(r.Attempts))
		return putJSON(tx.Bucket(bJobs), key, r)
	})
}

// Release implements jobqueue.Queue: the record's lease ends now, its
// owner becomes jobqueue.Released and its attempt count drops by one, so
// the next Receive takes it first (as an expired lease) as the same
// attempt.
func (q *Queue) Release(ctx context.Context, d jobqueue.Delivery) error {
	err := q.owned("release", d, func(tx *bolt.Tx, key []byte, r record) error {
		r.Attempts--
		r.Owner, r.Until = jobqueue.Released, time.Time{}
		return putJSON(tx.Bucket(bJobs), key, r)
	})
	if err != nil {
		return err
	}
	q.signal()
	return nil
}

// Ping implements jobqueue.Queue: the file is open.
func (q *Queue) Ping(ctx context.Context) error {
	if q.closed.Load() {
		return jobqueue.ErrClosed
	}
	return nil
}

// toDead moves the job at key to the dead-letter list, dropping the oldest
// dead entries beyond DeadMax.
func (q *Queue) toDead(tx *bolt.Tx, key []byte, r record, now time.Time) error {
	if err := tx.Bucket(bJobs).Delete(key); err != nil {
		return err
	}
	dead := tx.Bucket(bDead)
	seq, err := dead.NextSequence()
	if err != nil {
		return err
	}
	if err := putJSON(dead, seqKey(seq), jobqueue.DeadJob{Job: r.Job, Attempts: r.Attempts, Error: r.Error, DeadAt: now.UTC()}); err != nil {
		return err
	}
	c := dead.Cursor()
	for n := dead.Stats().KeyN; n > q.opts.DeadMax; n-- {
		if k, _ := c.First(); k != nil {
			if err := c.Delete(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stats implements jobqueue.Queue.
func (q *Queue) Stats(ctx context.Context) (jobqueue.Stats, error) {
	if q.closed.Load() {
		return jobqueue.Stats{}, jobqueue.ErrClosed
	}
	var s jobqueue.Stats
	now := q.Now()
	err := q.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bJobs).ForEach(func(k, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode job %x: %w", k, err)
			}
			s.Depth++
			if r.Owner != "" && r.Owner != jobqueue.Released {
				s.InFlight++
			}
			s.OldestAge = max(s.OldestAge, now.Sub(r.EnqueuedAt))
			return nil
		})
		s.Dead = int64(tx.Bucket(bDead).Stats().KeyN)
		return err
	})
	if err != nil {
		return jobqueue.Stats{}, fmt.Errorf("queue stats: %w", err)
	}
	return s, nil
}

// Dead implements jobqueue.Queue.
func (q *Queue) Dead(ctx context.Context, limit int) ([]jobqueue.DeadJob, error) {
	if q.closed.Load() {
		return nil, jobqueue.ErrClosed
	}
	var out []jobqueue.DeadJob
	err := q.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bDead).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var dj jobqueue.DeadJob
			if err := json.Unmarshal(v, &dj); err != nil {
				return fmt.Errorf("decode dead job %x: %w", k, err)
			}
			out = append(out, dj)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read dead jobs: %w", err)
	}
	return out, nil
}

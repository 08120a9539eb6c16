package localqueue

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
)

// Enqueue implements jobqueue.Queue.
func (q *Queue) Enqueue(ctx context.Context, job jobqueue.Job, dedup time.Duration) (bool, error) {
	if err := job.Validate(); err != nil {
		return false, err
	}
	now := q.Now()
	added := false
	err := q.update(func(tx *bolt.Tx) error {
		seen := tx.Bucket(bSeen)
		if v := seen.Get([]byte(job.ID)); len(v) == 8 && now.UnixNano() < int64(binary.BigEndian.Uint64(v)) {
			return nil
		}
		if err := pruneSeen(seen, now); err != nil {
			return err
		}
		until := now.Add(max(dedup, time.Millisecond)).UnixNano()
		if err := seen.Put([]byte(job.ID), binary.BigEndian.AppendUint64(nil, uint64(until))); err != nil {
			return err
		}
		jobs := tx.Bucket(bJobs)
		seq, err := jobs.NextSequence()
		if err != nil {
			return err
		}
		added = true
		return putJSON(jobs, seqKey(seq), record{Job: job, EnqueuedAt: now})
	})
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", job.ID, err)
	}
	if added {
		q.signal()
	}
	return added, nil
}

// pruneSeen deletes dedup markers whose window has passed.
func pruneSeen(seen *bolt.Bucket, now time.Time) error {
	c := seen.Cursor()
	for k, v := c.First(); k != nil; {
		if len(v) == 8 && now.UnixNano() >= int64(binary.BigEndian.Uint64(v)) {
			if err := c.Delete(); err != nil {
				return err
			}
			k, v = c.Seek(k)
			continue
		}
		k, v = c.Next()
	}
	return nil
}

// Receive implements jobqueue.Queue.
func (q *Queue) Receive(ctx context.Context, consumer string) (jobqueue.Delivery, error) {
	if consumer == "" || consumer == jobqueue.Released {
		return jobqueue.Delivery{}, fmt.Errorf("receive: bad consumer name %q", consumer)
	}
	poll := time.NewTimer(q.opts.Poll)
	defer poll.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return jobqueue.Delivery{}, err
		}
		wake := q.waitCh()
		d, ok, err := q.take(consumer)
		if err != nil || ok {
			return d, err
		}
		poll.Reset(q.opts.Poll)
		select {
		case <-ctx.Done():
			return jobqueue.Delivery{}, ctx.Err()
		case <-q.done:
			return jobqueue.Delivery{}, jobqueue.ErrClosed
		case <-wake:
		case <-poll.C:
		}
	}
}

// take leases the first job whose lease expired, or else the first job
// never delivered; jobs out of attempts go to the dead-letter list.
func (q *Queue) take(consumer string) (jobqueue.Delivery, bool, error) {
	now := q.Now()
	var d jobqueue.Delivery
	found := false
	err := q.update(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bJobs)
		var (
			expired, fresh []byte
			expRec, newRec record
			dead           = map[string]record{}
		)
		c := jobs.Cursor()
		for k, v := c.First(); k != nil && expired == nil; k, v = c.Next() {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode job %x: %w", k, err)
			}
			switch {
			case r.leased(now):
			case r.Owner != "" && r.Attempts >= q.opts.MaxAttempts:
				dead[string(k)] = r
			case r.Owner != "":
				expired, expRec = slices.Clone(k), r
			case fresh == nil:
				fresh, newRec = slices.Clone(k), r
			}
		}
		for k, r := range dead {
			if r.Error == "" {
				r.Error = "worker stopped before finishing the job"
			}
			if err := q.toDead(tx, []byte(k), r, now); err != nil {
				return err
			}
		}
		// Expired leases first, as XAUTOCLAIM before XREADGROUP.
		pick, rec := expired, expRec
		if pick == nil {
			pick, rec = fresh, newRec
		}
		if pick == nil {
			return nil
		}
		rec.Attempts++
		rec.Owner, rec.Until = consumer, now.Add(q.opts.Visibility)
		if err := putJSON(jobs, pick, rec); err != nil {
			return err
		}
		found = true
		d = jobqueue.Delivery{Job: rec.Job, Attempt: rec.Attempts, EnqueuedAt: rec.EnqueuedAt, Consumer: consumer,
			Token: strconv.FormatUint(binary.BigEndian.Uint64(pick), 10)}
		return nil
	})
	if err != nil {
		return d, false, fmt.Errorf("receive: %w", err)
	}
	return d, found, nil
}

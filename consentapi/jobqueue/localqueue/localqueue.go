// Package localqueue is the embedded jobqueue.Queue: the scan-job queue of
// a single crumb process that runs without Redis (`crumb serve --workers N`
// on the embedded store). It behaves as the Redis queue does (at-least-once
// delivery, leases reclaimed after the visibility timeout, attempts counted,
// dead letters after MaxAttempts, dedup by job ID) and keeps its jobs in a
// bbolt file, so queued and leased jobs survive a restart: a job whose
// process died mid-scan is delivered again once its lease runs out.
package localqueue

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
)

// The buckets; seq is the bucket's 8-byte big-endian sequence number, so
// jobs sort in the order they were enqueued.
var (
	bJobs = []byte("jobs") // seq → record JSON
	bSeen = []byte("seen") // job id → 8-byte Unix nanoseconds the dedup window ends
	bDead = []byte("dead") // seq → jobqueue.DeadJob JSON
)

// record is a queued job and its lease.
type record struct {
	Job        jobqueue.Job `json:"job"`
	EnqueuedAt time.Time    `json:"enqueued_at"`
	Attempts   int          `json:"attempts"`
	// Owner is the consumer of the latest delivery; empty until the first,
	// jobqueue.Released after a Release.
	Owner string `json:"owner,omitempty"`
	// Until is when the lease (or the backoff after a failure) ends.
	Until time.Time `json:"until,omitzero"`
	Error string    `json:"error,omitempty"`
}

// leased reports whether the job is held (by a worker or a backoff) at now.
func (r record) leased(now time.Time) bool { return r.Owner != "" && now.Before(r.Until) }

// Queue is a jobqueue.Queue in one bbolt file.
type Queue struct {
	db   *bolt.DB
	opts jobqueue.Options
	// Now is the clock leases and dedup windows run on.
	Now func() time.Time

	mu     sync.Mutex
	wake   chan struct{} // closed and replaced whenever a job may have become available
	closed atomic.Bool
	done   chan struct{}
}

var _ jobqueue.Queue = (*Queue)(nil)

// Open opens or creates the queue file at path. The file is the queue's
// own: bbolt allows one open handle per file.
func Open(path string, opts jobqueue.Options) (*Queue, error) {
	o, err := opts.WithDefaults()
	if err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open job queue %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bJobs, bSeen, bDead} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open job queue %s: %w", path, err)
	}
	return &Queue{db: db, opts: o, Now: time.Now, wake: make(chan struct{}), done: make(chan struct{})}, nil
}

// Close implements jobqueue.Queue: waiting Receives return ErrClosed.
func (q *Queue) Close() error {
	if q.closed.Swap(true) {
		return nil
	}
	close(q.done)
	return q.db.Close()
}

// signal wakes every waiting Receive.
func (q *Queue) signal() {
	q.mu.Lock()
	defer q.mu.Unlock()
	close(q.wake)
	q.wake = make(chan struct{})
}

// waitCh returns the channel the next signal closes.
func (q *Queue) waitCh() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.wake
}

func (q *Queue) update(fn func(tx *bolt.Tx) error) error {
	if q.closed.Load() {
		return jobqueue.ErrClosed
	}
	return q.db.Update(fn)
}

func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func getRecord(b *bolt.Bucket, key []byte) (record, bool, error) {
	v := b.Get(key)
	if v == nil {
		return record{}, false, nil
	}
	var r record
	if err := json.Unmarshal(v, &r); err != nil {
		return r, false, fmt.Errorf("decode job %x: %w", key, err)
	}
	return r, true, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, buf)
}

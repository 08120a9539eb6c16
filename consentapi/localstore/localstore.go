// Package localstore is the embedded, durable store.Store that crumb uses
// when no Redis is configured: one bbolt file, no server to run. Every
// write is fsynced before it is acknowledged; concurrent decisions share
// one transaction (bbolt's Batch). Expired records, banners and counters are
// deleted by a background sweep that runs inside the process, so retention
// needs no cron job; reads never return anything past its expiry even
// before the sweep has run. bbolt leaves deleted data on its free pages,
// so after an erasure the file is compacted into a fresh copy (compact.go).
package localstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
	bolt "go.etcd.io/bbolt"
)

var _ store.Store = (*Store)(nil)

// The buckets and what their keys and values are; "·" is a 0 byte and
// time is 8 bytes of big-endian Unix nanoseconds, so keys sort by time.
var (
	bRecords  = []byte("records")  // site·event → storedRecord JSON
	bConsents = []byte("consents") // site·consent·time·event → nothing (a consent's history)
	bHeads    = []byte("heads")    // site·consent → time the last record expires (the consent is live)
	bLog      = []byte("log")      // site·time·event → consent id (the proof log by time)
	bAggs     = []byte("aggs")     // site·YYYY-MM-DD → storedAgg JSON
	bBanners  = []byte("banners")  // site·hash → time it expires + snapshot
	bSites    = []byte("sites")    // site → revision (decimal); site·"scope" → store.SiteScope JSON
	bWidgets  = []byte("widgets")  // widget bundle hash → time it expires
	bExpiry   = []byte("expiry")   // time·kind·key → nothing: what the sweep deletes when
	bMeta     = []byte("meta")     // "erase-pending" → "1" from an erasure until the compaction after it
)

// erasePending marks, in bMeta, that erased data may still be on free
// pages; it outlives a restart, so the compaction is not lost with one.
var erasePending = []byte("erase-pending")

// Kinds of expiry entries.
const (
	kindRecord byte = 'r'
	kindHead   byte = 'h'
	kindAgg    byte = 'a'
	kindBanner byte = 'b'
	kindWidget byte = 'w'
)

// Options tune a Store. The zero value is ready for production.
type Options struct {
	Now           func() time.Time // default time.Now
	SweepInterval time.Duration    // default 1 minute
	// NoSync skips fsync; only for tests and fuzzing, never for proofs.
	NoSync bool
	// CompactAfterErase bounds how long erased data stays on the file's
	// free pages: at most this long after an erasure the file is
	// rewritten without them (R39). Default 1h; negative turns it off.
	CompactAfterErase time.Duration
	Logger            *slog.Logger // default slog.Default()
}

// Store is a store.Store in one bbolt file.
type Store struct {
	path    string
	noSync  bool
	mu      sync.RWMutex // held for writing only while Compact swaps db
	db      *bolt.DB
	erased  atomic.Bool // an erasure since the last compaction
	lost    atomic.Bool // db was closed after losing its mapping and not reopened
	stopped bool        // Close has run (guarded by mu)
	now     func() time.Time
	logger  *slog.Logger
	stop    chan struct{}
	done    sync.WaitGroup
	closed  sync.Once
}

// Open opens or creates the database file at path and starts its sweep.
func Open(path string, opts Options) (*Store, error) {
	db, err := openDB(path, opts.NoSync)
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bRecords, bConsents, bHeads, bLog, bAggs, bBanners, bSites, bWidgets, bExpiry, bMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("create buckets: %w", err)
	}
	s := &Store{path: path, noSync: opts.NoSync, db: db, now: opts.Now, logger: opts.Logger, stop: make(chan struct{})}
	// An erasure before the last stop whose compaction had not run yet.
	db.View(func(tx *bolt.Tx) error {
		s.erased.Store(tx.Bucket(bMeta).Get(erasePending) != nil)
		return nil
	})
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	interval := opts.SweepInterval
	if interval <= 0 {
		interval = time.Minute
	}
	s.done.Go(func() { s.every(interval, s.sweep) })
	if opts.CompactAfterErase == 0 {
		opts.CompactAfterErase = time.Hour
	}
	if opts.CompactAfterErase > 0 {
		s.done.Go(func() { s.every(opts.CompactAfterErase, s.compactIfErased) })
	}
	return s, nil
}

func openDB(path string, noSync bool) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoSync: noSync})
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		return nil, err // names the path already
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Batches of concurrent decisions commit together; a small delay
	// collects more of them per fsync.
	db.MaxBatchDelay = 2 * time.Millisecond
	return db, nil
}

// view, update and batch run fn as bolt's View, Update and Batch do, on
// the current file.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	db, err := s.onDB(func(db *bolt.DB) error { return db.View(fn) })
	s.remapIfLost(db, err)
	return err
}

func (s *Store) update(fn func(*bolt.Tx) error) error {
	db, err := s.onDB(func(db *bolt.DB) error { return db.Update(fn) })
	s.remapIfLost(db, err)
	return err
}

func (s *Store) batch(fn func(*bolt.Tx) error) error {
	db, err := s.onDB(func(db *bolt.DB) error { return db.Batch(fn) })
	s.remapIfLost(db, err)
	return err
}

// onDB runs f on the current file, which Compact and remapIfLost cannot
// swap meanwhile, and returns that file with f's error.
func (s *Store) onDB(f func(*bolt.DB) error) (*bolt.DB, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db, f(s.db)
}

// remapIfLost reopens the file when an operation found bbolt's mapping lost:
// a file that failed to grow (a full or failing disk) leaves every later
// write refused with ErrInvalidMapping until the file is opened again. The
// write that met it is answered unavailable; later ones use the reopened
// file, or, while it cannot be reopened, are answered unavailable and try
// again.
func (s *Store) remapIfLost(db *bolt.DB, err error) {
	if !errors.Is(err, bolt.ErrInvalidMapping) && !(errors.Is(err, bolt.ErrDatabaseNotOpen) && s.lost.Load()) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != db || s.stopped {
		return // reopened by another write, or closed
	}
	db.Close()
	fresh, oerr := openDB(s.path, s.noSync)
	if oerr != nil {
		s.lost.Store(true)
		s.logger.Error("reopen the database after its mapping was lost", "err", oerr)
		return
	}
	s.lost.Store(false)
	s.db = fresh
	s.logger.Warn("reopened the database after its mapping was lost", "cause", err)
}

// Ping reports whether the database is open and mapped (a Ping after the
// mapping was lost tries to reopen it, so readiness recovers by itself).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.view(func(*bolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return nil
}

// Close stops the sweep and closes the database after the writes in
// flight have committed.
func (s *Store) Close() error {
	var err error
	s.closed.Do(func() {
		close(s.stop)
		s.done.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.stopped = true
		err = s.db.Close()
	})
	return err
}

// key joins parts with 0 bytes.
func key(parts ...[]byte) []byte { return bytes.Join(parts, []byte{0}) }

// prefix is key(parts...) followed by the separator, for prefix scans.
func prefix(parts ...[]byte) []byte { return append(key(parts...), 0) }

func b(s string) []byte { return []byte(s) }

func timeKey(t time.Time) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(t.UnixNano()))
	return k[:]
}

func keyTime(k []byte) time.Time { return time.Unix(0, int64(binary.BigEndian.Uint64(k))) }

// storedRecord is a record with the time it is deleted.
type storedRecord struct {
	store.Record
	DeleteAt time.Time `json:"delete_at"`
}

func getRecord(tx *bolt.Tx, site, event string) (*storedRecord, error) {
	v := tx.Bucket(bRecords).Get(key(b(site), b(event)))
	if v == nil {
		return nil, nil
	}
	var r storedRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	return &r, nil
}

// addExpiry schedules the sweep to look at the item of kind under k at t.
func addExpiry(tx *bolt.Tx, t time.Time, kind byte, k []byte) error {
	return tx.Bucket(bExpiry).Put(key(timeKey(t), []byte{kind}, k), nil)
}

var errClosed = errors.New("store closed")

// wrap turns bbolt failures into store errors: the file failing under the
// store (closed, a full or failing disk, a lost mapping) is
// store.ErrUnavailable, which the API answers 503 and counts, as it does
// for Redis being down.
func wrap(op string, err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return fmt.Errorf("%s: %w: %w", op, store.ErrUnavailable, errClosed)
	}
	if fileFailed(err) {
		return fmt.Errorf("%s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// fileFailed reports whether err is the file failing rather than a request
// the store refused: an operating system error (ENOSPC, EIO, EFBIG…), or
// bbolt's lost mapping and failed growth, which it reports as text.
func fileFailed(err error) bool {
	var pe *fs.PathError
	var errno syscall.Errno
	if errors.As(err, &pe) || errors.As(err, &errno) || errors.Is(err, bolt.ErrInvalidMapping) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "mmap allocate error") || strings.Contains(msg, "file resize error") || strings.Contains(msg, "mmap resize error")
}

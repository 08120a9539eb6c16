// Package store is the persistence seam of the consent service: the records
// it keeps as proof of consent, the banner snapshots they refer to, the
// aggregate counters consent rates are computed from, and the Store
// interface that the Redis store (consentapi/redisstore) and the embedded
// store (consentapi/localstore) implement. Both pass the one behaviour
// suite in consentapi/storetest.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Implementations wrap them; callers test with errors.Is.
var (
	// ErrNotFound: no live consent, banner or site state under that key.
	ErrNotFound = errors.New("not found")
	// ErrUnknownBanner: a decision names a banner hash the site never stored.
	ErrUnknownBanner = errors.New("unknown banner")
	// ErrConflict: the write contradicts what is stored, e.g. a banner hash
	// stored with different content.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the backend could not be reached or did not answer in
	// time. Nothing was acknowledged; the caller may retry with the same
	// event id.
	ErrUnavailable = errors.New("store unavailable")
)

// Store is everything the consent service keeps. Implementations are safe
// for concurrent use.
type Store interface {
	ConsentStore
	BannerStore
	StatsStore
	SiteStore
	ScanStore
	// Ping reports whether the backend is reachable; ErrUnavailable if not.
	Ping(ctx context.Context) error
	// Close flushes anything pending, waits for writes in flight and
	// releases the backend. Calls after Close fail.
	Close() error
}

// ConsentStore keeps the per-visitor proof-of-consent records.
type ConsentStore interface {
	// Record appends the decision to the history of a consent id, in one
	// atomic step together with its proof-log entry and the aggregates.
	//
	// If d.EventID is already recorded for d.Site, Record writes nothing and
	// returns the stored record with created=false (retries never
	// duplicate). Otherwise, if d.ConsentID names a live consent of d.Site
	// the record joins its history; if it is empty, unknown, expired or
	// erased, the record starts a new history under d.NewConsentID.
	// Returns ErrUnknownBanner if d.Banner is not a stored banner of d.Site,
	// ErrUnavailable if the backend cannot be reached.
	Record(ctx context.Context, d Decision) (rec Record, created bool, err error)
	// Consent returns the live history of a consent id, oldest first.
	// Returns ErrNotFound if there is none.
	Consent(ctx context.Context, site, consentID string) ([]Record, error)
	// Erase deletes every per-visitor record of a consent id, including its
	// proof-log entries and event ids; aggregates are kept. Returns
	// ErrNotFound if there is no live history.
	Erase(ctx context.Context, site, consentID string) error
}

// BannerStore keeps the immutable, content-addressed banner snapshots that
// records refer to (R23).
type BannerStore interface {
	// PutBanner stores snapshot under hash for site if it is not stored yet,
	// and makes sure it is kept for at least keep from now. Returns
	// ErrConflict if hash is stored with different content.
	PutBanner(ctx context.Context, site, hash string, snapshot []byte, keep time.Duration) error
	// Banner returns the snapshot stored under hash. ErrNotFound if none.
	Banner(ctx context.Context, site, hash string) ([]byte, error)
}

// StatsStore keeps the aggregate counters and reads the proof log.
type StatsStore interface {
	// Impression counts one banner impression on the UTC day of at; the
	// day's counters are kept for retention after the day ends.
	Impression(ctx context.Context, site string, at time.Time, retention time.Duration) error
	// Stats returns the counters of each UTC day from first to last
	// inclusive, in order, one entry per day (zero days included).
	Stats(ctx context.Context, site string, first, last time.Time) ([]DayStats, error)
	// Proofs calls fn with each live record of site recorded in [from, to),
	// oldest first, reading the log in batches rather than all at once.
	// An error from fn stops the walk and is returned.
	Proofs(ctx context.Context, site string, from, to time.Time, fn func(Record) error) error
}

// SiteStore keeps per-site state that may change while the service runs.
type SiteStore interface {
	// SiteRevision returns the highest revision stored for site, or
	// ErrNotFound if none was stored.
	SiteRevision(ctx context.Context, site string) (int, error)
	// RaiseSiteRevision stores rev for site if it is higher than the stored
	// one and returns the revision in force afterwards.
	RaiseSiteRevision(ctx context.Context, site string, rev int) (int, error)
}

// Decision is a record to append, with what the store needs to place it.
type Decision struct {
	Record
	// NewConsentID is the id the record gets when Record.ConsentID does not
	// name a live consent; the caller generates it.
	NewConsentID string
	// Retention is how long the record is kept after RecordedAt.
	Retention time.Duration
}

// DeleteAt returns when the record of d expires.
func (d Decision) DeleteAt() time.Time { return d.RecordedAt.Add(d.Retention) }

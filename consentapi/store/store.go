// Package store is the persistence seam of the consent service: the records
// it keeps as proof of consent, the banner snapshots they refer to, the
// aggregate counters consent rates are computed from, and the Store
// interface that the Redis store (consentapi/redisstore) and the embedded
// store (consentapi/localstore) implement. Both pass the one behaviour
// suite in consentapi/storetest.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
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

// MaxHistory is how many live records one consent id's history holds at
// most. A visitor decides a few times per validity period; the bound is far
// above that and only stops a client that keeps posting decisions naming
// one id from making that history (and every read and append of it)
// grow without limit. A decision naming a full history starts a new one
// under its new id, as one naming an unknown id does: nothing is refused.
const MaxHistory = 100

// Store is everything the consent service keeps. Implementations are safe
// for concurrent use.
type Store interface {
	ConsentStore
	BannerStore
	StatsStore
	SiteStore
	ScopeStore
	WidgetStore
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
	// whose history holds fewer than MaxHistory records, the record joins
	// that history; if it is empty, unknown, expired, erased or names a
	// full history, the record starts a new history under d.NewConsentID.
	// A history counts the records recorded within d.Retention before
	// d.RecordedAt (its live records, as long as the site's retention is
	// unchanged).
	// Returns ErrUnknownBanner if d.Banner is not a stored banner of d.Site,
	// ErrUnavailable if the backend cannot be reached.
	Record(ctx context.Context, d Decision) (rec Record, created bool, err error)
	// Consent returns the live history of a consent id, oldest first.
	// Returns ErrNotFound if there is none.
	Consent(ctx context.Context, site, consentID string) ([]Record, error)
	// Latest returns the newest live record of a consent id's history,
	// reading that record only; if before names an event of the history,
	// the newest live record before it instead. Returns ErrNotFound if
	// there is none.
	Latest(ctx context.Context, site, consentID, before string) (Record, error)
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

// ScopeStore keeps, per site, what the banners served at the site's
// revision have asked visitors to consent to, so that the service can tell
// when a banner it builds widens that and the revision must be raised
// (R26). It is separate from SiteStore, which the scan results also use.
type ScopeStore interface {
	// SiteScope returns the site's stored scope, or ErrNotFound if none
	// was stored.
	SiteScope(ctx context.Context, site string) (SiteScope, error)
	// SwapSiteScope stores next as the site's scope if the stored one is
	// still old (nil: none stored), atomically, and reports whether it did.
	// Replicas that decide on a raise from the same old scope thus raise
	// once: every other swap fails and reads the winner's scope again.
	SwapSiteScope(ctx context.Context, site string, old *SiteScope, next SiteScope) (bool, error)
}

// SiteScope is what the banners served at a site's revision asked consent
// for: the ids of its refusable categories and, for each, the providers of
// its rows ("category" and "category|provider", sorted).
type SiteScope struct {
	Revision int      `json:"revision"`
	Scope    []string `json:"scope"`
	// Scan is the id of the latest scan when the scope was stored; "" for
	// none.
	Scan string `json:"scan,omitempty"`
	// Wording is, per refusable category, a hash of how the configuration
	// words it (its name, description and rows' purposes) when a replica
	// last started; nil in scopes stored before it was kept.
	Wording map[string]string `json:"wording,omitempty"`
}

// Encode returns the canonical JSON of s: equal scopes encode to equal
// bytes, which is what SwapSiteScope compares.
func (s SiteScope) Encode() []byte {
	s.Scope = slices.Clone(s.Scope)
	if s.Scope == nil {
		s.Scope = []string{}
	}
	slices.Sort(s.Scope)
	s.Scope = slices.Compact(s.Scope)
	b, _ := json.Marshal(s) // a struct of ints and strings always encodes
	return b
}

// DecodeSiteScope decodes what Encode returned.
func DecodeSiteScope(b []byte) (SiteScope, error) {
	var s SiteScope
	if err := json.Unmarshal(b, &s); err != nil {
		return SiteScope{}, err
	}
	return s, nil
}

// WidgetStore keeps the hashes of the widget bundles the service's
// replicas have served (R22): a decision names the bundle that sent it,
// and a page loaded before a deploy still sends the previous one.
type WidgetStore interface {
	// PutWidgetVersion notes that the bundle with hash is served, and
	// keeps it for at least keep from now.
	PutWidgetVersion(ctx context.Context, hash string, keep time.Duration) error
	// WidgetVersion returns nil if a bundle with hash was served within
	// its keep, ErrNotFound if not.
	WidgetVersion(ctx context.Context, hash string) error
}

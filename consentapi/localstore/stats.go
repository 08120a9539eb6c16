package localstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
	bolt "go.etcd.io/bbolt"
)

// maxDays bounds a Stats range.
const maxDays = 1000

// proofBatch is how many records Proofs reads per transaction.
const proofBatch = 500

// Impression implements store.StatsStore.
func (s *Store) Impression(ctx context.Context, site string, at time.Time, retention time.Duration) error {
	err := s.batch(func(tx *bolt.Tx) error {
		return s.count(tx, site, at, retention, func(a *store.DayStats) { a.Impressions++ })
	})
	if err != nil {
		return wrap("impression", err)
	}
	return nil
}

// Stats implements store.StatsStore.
func (s *Store) Stats(ctx context.Context, site string, first, last time.Time) ([]store.DayStats, error) {
	var out []store.DayStats
	err := s.view(func(tx *bolt.Tx) error {
		now := s.now()
		for _, day := range store.Days(first, last, maxDays) {
			a := storedAgg{DayStats: store.NewDayStats(day)}
			if v := tx.Bucket(bAggs).Get(key(b(site), b(day))); v != nil {
				if err := json.Unmarshal(v, &a); err != nil {
					return fmt.Errorf("decode counters: %w", err)
				}
				if !a.DeleteAt.After(now) {
					a = storedAgg{DayStats: store.NewDayStats(day)}
				}
			}
			out = append(out, a.DayStats)
		}
		return nil
	})
	if err != nil {
		return nil, wrap("stats", err)
	}
	return out, nil
}

// Proofs implements store.StatsStore. Each batch is read in its own
// transaction, so a slow reader does not hold the database.
func (s *Store) Proofs(ctx context.Context, site string, from, to time.Time, fn func(store.Record) error) error {
	p := prefix(b(site))
	seek := append(bytes.Clone(p), timeKey(from)...)
	end := append(bytes.Clone(p), timeKey(to)...)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var batch []store.Record
		var next []byte
		err := s.view(func(tx *bolt.Tx) error {
			now := s.now()
			c := tx.Bucket(bLog).Cursor()
			for k, _ := c.Seek(seek); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
				if len(batch) == proofBatch {
					next = bytes.Clone(k)
					return nil
				}
				ev := string(k[len(p)+9:])
				r, err := getRecord(tx, site, ev)
				if err != nil {
					return err
				}
				if r != nil && r.DeleteAt.After(now) {
					batch = append(batch, r.Record)
				}
			}
			return nil
		})
		if err != nil {
			return wrap("proofs", err)
		}
		for _, r := range batch {
			if err := fn(r); err != nil {
				return err
			}
		}
		if next == nil {
			return nil
		}
		seek = next
	}
}

// PutBanner implements store.BannerStore.
func (s *Store) PutBanner(ctx context.Context, site, hash string, snapshot []byte, keep time.Duration) error {
	err := s.update(func(tx *bolt.Tx) error {
		k := key(b(site), b(hash))
		until := s.now().Add(keep)
		v := tx.Bucket(bBanners).Get(k)
		if v != nil && keyTime(v[:8]).After(s.now()) {
			if !bytes.Equal(v[8:], snapshot) {
				return fmt.Errorf("banner %s: %w: stored with other content", hash, store.ErrConflict)
			}
			if keyTime(v[:8]).After(until) {
				return nil
			}
		}
		if err := tx.Bucket(bBanners).Put(k, append(timeKey(until), snapshot...)); err != nil {
			return err
		}
		return addExpiry(tx, until, kindBanner, k)
	})
	if err != nil {
		return wrap("put banner", err)
	}
	return nil
}

// Banner implements store.BannerStore.
func (s *Store) Banner(ctx context.Context, site, hash string) ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bBanners).Get(key(b(site), b(hash)))
		if v == nil || !keyTime(v[:8]).After(s.now()) {
			return store.ErrNotFound
		}
		out = bytes.Clone(v[8:])
		return nil
	})
	if err != nil {
		return nil, wrap("banner", err)
	}
	return out, nil
}

// SiteRevision implements store.SiteStore.
func (s *Store) SiteRevision(ctx context.Context, site string) (int, error) {
	rev := 0
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bSites).Get(b(site))
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		rev, err = strconv.Atoi(string(v))
		return err
	})
	if err != nil {
		return 0, wrap("site revision", err)
	}
	return rev, nil
}

// RaiseSiteRevision implements store.SiteStore.
func (s *Store) RaiseSiteRevision(ctx context.Context, site string, rev int) (int, error) {
	err := s.update(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bSites).Get(b(site)); v != nil {
			if cur, err := strconv.Atoi(string(v)); err == nil && cur >= rev {
				rev = cur
				return nil
			}
		}
		return tx.Bucket(bSites).Put(b(site), b(strconv.Itoa(rev)))
	})
	if err != nil {
		return 0, wrap("raise site revision", err)
	}
	return rev, nil
}

// scopeKey is where the site's scope is kept in bSites.
func scopeKey(site string) []byte { return key(b(site), b("scope")) }

// SiteScope implements store.ScopeStore.
func (s *Store) SiteScope(ctx context.Context, site string) (store.SiteScope, error) {
	var sc store.SiteScope
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bSites).Get(scopeKey(site))
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		sc, err = store.DecodeSiteScope(v)
		return err
	})
	if err != nil {
		return store.SiteScope{}, wrap("site scope", err)
	}
	return sc, nil
}

// SwapSiteScope implements store.ScopeStore.
func (s *Store) SwapSiteScope(ctx context.Context, site string, old *store.SiteScope, next store.SiteScope) (bool, error) {
	swapped := false
	err := s.update(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bSites).Get(scopeKey(site))
		if old == nil && cur != nil || old != nil && !bytes.Equal(cur, old.Encode()) {
			return nil
		}
		swapped = true
		return tx.Bucket(bSites).Put(scopeKey(site), next.Encode())
	})
	if err != nil {
		return false, wrap("swap site scope", err)
	}
	return swapped, nil
}

// PutWidgetVersion implements store.WidgetStore.
func (s *Store) PutWidgetVersion(ctx context.Context, hash string, keep time.Duration) error {
	err := s.update(func(tx *bolt.Tx) error {
		until := s.now().Add(keep)
		if v := tx.Bucket(bWidgets).Get(b(hash)); len(v) == 8 && keyTime(v).After(until) {
			return nil
		}
		if err := tx.Bucket(bWidgets).Put(b(hash), timeKey(until)); err != nil {
			return err
		}
		return addExpiry(tx, until, kindWidget, b(hash))
	})
	if err != nil {
		return wrap("put widget version", err)
	}
	return nil
}

// WidgetVersion implements store.WidgetStore.
func (s *Store) WidgetVersion(ctx context.Context, hash string) error {
	err := s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bWidgets).Get(b(hash)); len(v) == 8 && keyTime(v).After(s.now()) {
			return nil
		}
		return store.ErrNotFound
	})
	if err != nil {
		return wrap("widget version "+hash, err)
	}
	return nil
}

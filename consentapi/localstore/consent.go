package localstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
	bolt "go.etcd.io/bbolt"
)

// Record implements store.ConsentStore.
func (s *Store) Record(ctx context.Context, d store.Decision) (store.Record, bool, error) {
	var (
		out     store.Record
		created bool
	)
	err := s.batch(func(tx *bolt.Tx) error {
		// Batch may run this more than once: set the results afresh.
		out, created = store.Record{}, false
		now := s.now()
		old, err := getRecord(tx, d.Site, d.EventID)
		if err != nil {
			return err
		}
		if old != nil && old.DeleteAt.After(now) {
			out = old.Record
			return nil
		}
		if old != nil { // expired, not swept yet
			deleteRecord(tx, old)
		}
		bk := key(b(d.Site), b(d.Banner))
		bv := tx.Bucket(bBanners).Get(bk)
		if len(bv) < 8 || !keyTime(bv[:8]).After(now) {
			return store.ErrUnknownBanner
		}
		rec := d.Record
		rec.ConsentID = d.NewConsentID
		if d.ConsentID != "" {
			if h := tx.Bucket(bHeads).Get(key(b(d.Site), b(d.ConsentID))); len(h) == 8 && keyTime(h).After(now) &&
				!historyFull(tx, d.Site, d.ConsentID, d.RecordedAt.Add(-d.Retention)) {
				rec.ConsentID = d.ConsentID
			}
		}
		if err := s.putRecord(tx, rec, d.DeleteAt()); err != nil {
			return err
		}
		// The banner lives at least as long as the records that refer to it;
		// a day of slack saves rewriting it on every decision.
		if keep := d.DeleteAt(); !keyTime(bv[:8]).After(keep) {
			nb := append(timeKey(keep.Add(24*time.Hour)), bv[8:]...)
			if err := tx.Bucket(bBanners).Put(bk, nb); err != nil {
				return err
			}
			if err := addExpiry(tx, keep.Add(24*time.Hour), kindBanner, bk); err != nil {
				return err
			}
		}
		if err := s.count(tx, rec.Site, rec.RecordedAt, d.Retention, func(a *store.DayStats) {
			a.Decisions[rec.Action]++
			for c, granted := range rec.Categories {
				if granted {
					a.Granted[c]++
				} else {
					a.Denied[c]++
				}
			}
		}); err != nil {
			return err
		}
		out, created = rec, true
		return nil
	})
	if err != nil {
		return store.Record{}, false, wrap("record", err)
	}
	return out, created, nil
}

// putRecord writes a record with its history, log and expiry entries.
func (s *Store) putRecord(tx *bolt.Tx, rec store.Record, deleteAt time.Time) error {
	site, ev, id := b(rec.Site), b(rec.EventID), b(rec.ConsentID)
	v, err := json.Marshal(storedRecord{Record: rec, DeleteAt: deleteAt})
	if err != nil {
		return err
	}
	rk := key(site, ev)
	if err := tx.Bucket(bRecords).Put(rk, v); err != nil {
		return err
	}
	if err := tx.Bucket(bConsents).Put(key(site, id, timeKey(rec.RecordedAt), ev), nil); err != nil {
		return err
	}
	if err := tx.Bucket(bLog).Put(key(site, timeKey(rec.RecordedAt), ev), id); err != nil {
		return err
	}
	hk := key(site, id)
	if h := tx.Bucket(bHeads).Get(hk); len(h) != 8 || keyTime(h).Before(deleteAt) {
		if err := tx.Bucket(bHeads).Put(hk, timeKey(deleteAt)); err != nil {
			return err
		}
		if err := addExpiry(tx, deleteAt, kindHead, hk); err != nil {
			return err
		}
	}
	return addExpiry(tx, deleteAt, kindRecord, rk)
}

// deleteRecord removes a record, its history and log entries and its
// expiry entry.
func deleteRecord(tx *bolt.Tx, r *storedRecord) {
	site, ev := b(r.Site), b(r.EventID)
	tx.Bucket(bExpiry).Delete(key(timeKey(r.DeleteAt), []byte{kindRecord}, site, ev))
	tx.Bucket(bConsents).Delete(key(site, b(r.ConsentID), timeKey(r.RecordedAt), ev))
	tx.Bucket(bLog).Delete(key(site, timeKey(r.RecordedAt), ev))
	tx.Bucket(bRecords).Delete(key(site, ev))
}

// historyFull reports whether a consent's history holds store.MaxHistory
// records recorded at or after since: it counts keys, reading no record,
// and at most MaxHistory of them.
func historyFull(tx *bolt.Tx, site, id string, since time.Time) bool {
	p := prefix(b(site), b(id))
	c := tx.Bucket(bConsents).Cursor()
	n := 0
	for k, _ := c.Seek(append(p[:len(p):len(p)], timeKey(since)...)); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		if n++; n >= store.MaxHistory {
			return true
		}
	}
	return false
}

// latest returns the newest live record of a consent recorded before the
// history key end (nil: the newest of all), walking back from there;
// ErrNotFound if there is none.
func latest(tx *bolt.Tx, site, id string, end []byte, now time.Time) (*storedRecord, error) {
	p := prefix(b(site), b(id))
	c := tx.Bucket(bConsents).Cursor()
	if end == nil {
		// Past the history's last key: the separator after id is 0, so
		// the same parts ending in 1 sort after every key of it.
		end = append(key(b(site), b(id)), 1)
	}
	k, _ := c.Seek(end)
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, p); k, _ = c.Prev() {
		r, err := getRecord(tx, site, string(k[len(p)+9:]))
		if err != nil {
			return nil, err
		}
		if r != nil && r.DeleteAt.After(now) {
			return r, nil
		}
	}
	return nil, store.ErrNotFound
}

// history returns the live records of a consent, oldest first.
func (s *Store) history(tx *bolt.Tx, site, id string, now time.Time) ([]*storedRecord, error) {
	h := tx.Bucket(bHeads).Get(key(b(site), b(id)))
	if len(h) != 8 || !keyTime(h).After(now) {
		return nil, store.ErrNotFound
	}
	var recs []*storedRecord
	p := prefix(b(site), b(id))
	c := tx.Bucket(bConsents).Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		ev := k[len(p)+9:] // time (8) and separator
		r, err := getRecord(tx, site, string(ev))
		if err != nil {
			return nil, err
		}
		if r != nil && r.DeleteAt.After(now) {
			recs = append(recs, r)
		}
	}
	if len(recs) == 0 {
		return nil, store.ErrNotFound
	}
	return recs, nil
}

// Consent implements store.ConsentStore.
func (s *Store) Consent(ctx context.Context, site, consentID string) ([]store.Record, error) {
	var out []store.Record
	err := s.view(func(tx *bolt.Tx) error {
		recs, err := s.history(tx, site, consentID, s.now())
		for _, r := range recs {
			out = append(out, r.Record)
		}
		return err
	})
	if err != nil {
		return nil, wrap("consent", err)
	}
	return out, nil
}

// Latest implements store.ConsentStore: it reads the history's keys from
// the newest back, and the records until a live one.
func (s *Store) Latest(ctx context.Context, site, consentID, before string) (store.Record, error) {
	var out store.Record
	err := s.view(func(tx *bolt.Tx) error {
		now := s.now()
		if h := tx.Bucket(bHeads).Get(key(b(site), b(consentID))); len(h) != 8 || !keyTime(h).After(now) {
			return store.ErrNotFound
		}
		var end []byte
		if before != "" {
			r, err := getRecord(tx, site, before)
			if err != nil {
				return err
			}
			if r != nil && r.ConsentID == consentID {
				end = key(b(site), b(consentID), timeKey(r.RecordedAt), b(before))
			}
		}
		r, err := latest(tx, site, consentID, end, now)
		if err != nil {
			return err
		}
		out = r.Record
		return nil
	})
	if err != nil {
		return store.Record{}, wrap("latest", err)
	}
	return out, nil
}

// Erase implements store.ConsentStore.
func (s *Store) Erase(ctx context.Context, site, consentID string) error {
	err := s.update(func(tx *bolt.Tx) error {
		recs, err := s.history(tx, site, consentID, s.now())
		if err != nil {
			return err
		}
		// The head's expiry entries sit at the times its records expire.
		eraseHead := func(r *storedRecord) {
			tx.Bucket(bExpiry).Delete(key(timeKey(r.DeleteAt), []byte{kindHead}, b(site), b(consentID)))
			deleteRecord(tx, r)
		}
		for _, r := range recs {
			eraseHead(r)
		}
		// Expired records not swept yet go too.
		p := prefix(b(site), b(consentID))
		c := tx.Bucket(bConsents).Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Seek(p) {
			ev := string(k[len(p)+9:])
			if r, err := getRecord(tx, site, ev); err == nil && r != nil {
				eraseHead(r)
			}
			if err := c.Delete(); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bMeta).Put(erasePending, []byte("1")); err != nil {
			return err
		}
		return tx.Bucket(bHeads).Delete(key(b(site), b(consentID)))
	})
	if err != nil {
		return wrap("erase", err)
	}
	s.erased.Store(true)
	return nil
}

// storedAgg is one day's counters with the time they are deleted.
type storedAgg struct {
	store.DayStats
	DeleteAt time.Time `json:"delete_at"`
}

// count updates the counters of the UTC day of at.
func (s *Store) count(tx *bolt.Tx, site string, at time.Time, retention time.Duration, update func(*store.DayStats)) error {
	day := store.Day(at)
	k := key(b(site), b(day))
	a := storedAgg{DayStats: store.NewDayStats(day)}
	if v := tx.Bucket(bAggs).Get(k); v != nil {
		if err := json.Unmarshal(v, &a); err != nil {
			return fmt.Errorf("decode counters: %w", err)
		}
	}
	update(&a.DayStats)
	if del := store.DayEnd(at).Add(retention); del.After(a.DeleteAt) {
		a.DeleteAt = del
		if err := addExpiry(tx, del, kindAgg, k); err != nil {
			return err
		}
	}
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return tx.Bucket(bAggs).Put(k, v)
}

package localstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/crumbhq/crumb/consentapi/store"
)

var _ store.ScanStore = (*Store)(nil)

// Scan history buckets, created on first write (see localstore.go for the
// key notation). Scan results hold no personal data and do not expire;
// PutScan trims the history to the newest runs.
var (
	bScans     = []byte("scans")     // site·finish time·run id → store.ScanRun JSON with its report
	bScanIDs   = []byte("scanids")   // site·run id → finish time: finds a run by id
	bOverrides = []byte("overrides") // site·override key → store.Override JSON
)

// PutScan implements store.ScanStore.
func (s *Store) PutScan(ctx context.Context, run store.ScanRun, keep int) (store.ScanRun, bool, error) {
	full, err := json.Marshal(run)
	if err != nil {
		return run, false, fmt.Errorf("put scan: %w", err)
	}
	stored, created := run, false
	err = s.update(func(tx *bolt.Tx) error {
		scans, err := tx.CreateBucketIfNotExists(bScans)
		if err != nil {
			return err
		}
		ids, err := tx.CreateBucketIfNotExists(bScanIDs)
		if err != nil {
			return err
		}
		idKey := key(b(run.Site), b(run.ID))
		if t := ids.Get(idKey); t != nil {
			stored = store.ScanRun{}
			return json.Unmarshal(scans.Get(key(b(run.Site), t, b(run.ID))), &stored)
		}
		t := timeKey(run.FinishedAt)
		if err := scans.Put(key(b(run.Site), t, b(run.ID)), full); err != nil {
			return err
		}
		if err := ids.Put(idKey, t); err != nil {
			return err
		}
		created = true
		return trimScans(scans, ids, run.Site, max(keep, 1))
	})
	if err != nil {
		return run, false, fmt.Errorf("put scan: %w", err)
	}
	return stored, created, nil
}

// trimScans deletes the site's oldest runs beyond keep.
func trimScans(scans, ids *bolt.Bucket, site string, keep int) error {
	p := prefix(b(site))
	var all [][]byte
	c := scans.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		all = append(all, bytes.Clone(k))
	}
	for _, k := range all[:max(len(all)-keep, 0)] {
		id := k[len(p)+8+1:] // site·time·id
		if err := scans.Delete(k); err != nil {
			return err
		}
		if err := ids.Delete(key(b(site), id)); err != nil {
			return err
		}
	}
	return nil
}

// eachScan calls fn with the site's runs, newest first, until fn returns
// false.
func (s *Store) eachScan(site string, fn func(run store.ScanRun) bool) error {
	return s.view(func(tx *bolt.Tx) error {
		scans := tx.Bucket(bScans)
		if scans == nil {
			return nil
		}
		p := prefix(b(site))
		var keys [][]byte
		c := scans.Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			keys = append(keys, k)
		}
		for i := len(keys) - 1; i >= 0; i-- {
			var r store.ScanRun
			if err := json.Unmarshal(scans.Get(keys[i]), &r); err != nil {
				return fmt.Errorf("decode scan: %w", err)
			}
			if !fn(r) {
				return nil
			}
		}
		return nil
	})
}

// Scans implements store.ScanStore.
func (s *Store) Scans(ctx context.Context, site string) ([]store.ScanRun, error) {
	var out []store.ScanRun
	err := s.eachScan(site, func(r store.ScanRun) bool {
		out = append(out, r.Summary())
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("scans: %w", err)
	}
	return out, nil
}

// Scan implements store.ScanStore.
func (s *Store) Scan(ctx context.Context, site, id string) (store.ScanRun, error) {
	var r store.ScanRun
	found := false
	err := s.view(func(tx *bolt.Tx) error {
		scans, ids := tx.Bucket(bScans), tx.Bucket(bScanIDs)
		if scans == nil || ids == nil {
			return nil
		}
		t := ids.Get(key(b(site), b(id)))
		if t == nil {
			return nil
		}
		found = true
		return json.Unmarshal(scans.Get(key(b(site), t, b(id))), &r)
	})
	switch {
	case err != nil:
		return r, fmt.Errorf("scan %s: %w", id, err)
	case !found:
		return r, fmt.Errorf("scan %s: %w", id, store.ErrNotFound)
	}
	return r, nil
}

// LatestScan implements store.ScanStore.
func (s *Store) LatestScan(ctx context.Context, site string) (store.ScanRun, error) {
	var r store.ScanRun
	found := false
	err := s.eachScan(site, func(run store.ScanRun) bool {
		r, found = run, true
		return false
	})
	switch {
	case err != nil:
		return r, fmt.Errorf("latest scan: %w", err)
	case !found:
		return r, fmt.Errorf("latest scan: %w", store.ErrNotFound)
	}
	return r, nil
}

// PutOverride implements store.ScanStore.
func (s *Store) PutOverride(ctx context.Context, site string, o store.Override) error {
	v, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("put override: %w", err)
	}
	err = s.update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(bOverrides)
		if err != nil {
			return err
		}
		return bk.Put(key(b(site), b(o.Key())), v)
	})
	if err != nil {
		return fmt.Errorf("put override: %w", err)
	}
	return nil
}

// Overrides implements store.ScanStore.
func (s *Store) Overrides(ctx context.Context, site string) ([]store.Override, error) {
	var vals []string
	err := s.view(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bOverrides)
		if bk == nil {
			return nil
		}
		p := prefix(b(site))
		c := bk.Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			vals = append(vals, string(v))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	return store.DecodeOverrides(vals)
}

// DeleteOverride implements store.ScanStore.
func (s *Store) DeleteOverride(ctx context.Context, site, k string) error {
	found := false
	err := s.update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bOverrides)
		if bk == nil || bk.Get(key(b(site), b(k))) == nil {
			return nil
		}
		found = true
		return bk.Delete(key(b(site), b(k)))
	})
	switch {
	case err != nil:
		return fmt.Errorf("delete override: %w", err)
	case !found:
		return fmt.Errorf("delete override %q: %w", k, store.ErrNotFound)
	}
	return nil
}

// bScanSettings holds each site's scan settings: site → store.ScanSettings JSON.
var bScanSettings = []byte("scansettings")

// PutScanSettings implements store.ScanStore.
func (s *Store) PutScanSettings(ctx context.Context, site string, st store.ScanSettings) error {
	v, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("put scan settings: %w", err)
	}
	err = s.update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(bScanSettings)
		if err != nil {
			return err
		}
		return bk.Put(b(site), v)
	})
	if err != nil {
		return fmt.Errorf("put scan settings: %w", err)
	}
	return nil
}

// ScanSettings implements store.ScanStore.
func (s *Store) ScanSettings(ctx context.Context, site string) (store.ScanSettings, error) {
	var st store.ScanSettings
	var v []byte
	err := s.view(func(tx *bolt.Tx) error {
		if bk := tx.Bucket(bScanSettings); bk != nil {
			v = bytes.Clone(bk.Get(b(site)))
		}
		return nil
	})
	switch {
	case err != nil:
		return st, fmt.Errorf("scan settings: %w", err)
	case v == nil:
		return st, fmt.Errorf("scan settings: %w", store.ErrNotFound)
	}
	if err := json.Unmarshal(v, &st); err != nil {
		return st, fmt.Errorf("scan settings: decode: %w", err)
	}
	return st, nil
}

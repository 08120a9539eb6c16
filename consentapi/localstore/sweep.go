package localstore

import (
	"bytes"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"
)

// sweepChunk bounds the work of one sweep transaction.
const sweepChunk = 1000

// every calls fn once per interval until the store closes.
func (s *Store) every(interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			fn()
		}
	}
}

func (s *Store) sweep() {
	if n, err := s.Sweep(); err != nil {
		s.logger.Error("sweep expired data", "err", err)
	} else if n > 0 {
		s.logger.Debug("swept expired data", "entries", n)
	}
}

// Sweep deletes everything whose time has passed and returns how many
// expiry entries it handled. It runs by itself every SweepInterval.
func (s *Store) Sweep() (int, error) {
	total := 0
	for {
		n, err := s.sweepOnce()
		total += n
		if err != nil || n < sweepChunk {
			return total, err
		}
	}
}

func (s *Store) sweepOnce() (int, error) {
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		n = 0
		now := s.now()
		limit := timeKey(now)
		c := tx.Bucket(bExpiry).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], limit) <= 0 && n < sweepChunk; k, _ = c.First() {
			k = bytes.Clone(k) // expire may change the bucket under the cursor
			if err := expire(tx, k[9], k[11:], now); err != nil {
				return err
			}
			if err := tx.Bucket(bExpiry).Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// expire deletes the item of kind under target if its own time has come;
// items extended since the entry was written are left.
func expire(tx *bolt.Tx, kind byte, target []byte, now time.Time) error {
	switch kind {
	case kindRecord:
		v := tx.Bucket(bRecords).Get(target)
		if v == nil {
			return nil
		}
		var r storedRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return tx.Bucket(bRecords).Delete(target)
		}
		if !r.DeleteAt.After(now) {
			deleteRecord(tx, &r)
		}
	case kindHead:
		if v := tx.Bucket(bHeads).Get(target); len(v) == 8 && !keyTime(v).After(now) {
			return tx.Bucket(bHeads).Delete(target)
		}
	case kindBanner:
		if v := tx.Bucket(bBanners).Get(target); len(v) >= 8 && !keyTime(v[:8]).After(now) {
			return tx.Bucket(bBanners).Delete(target)
		}
	case kindWidget:
		if v := tx.Bucket(bWidgets).Get(target); len(v) == 8 && !keyTime(v).After(now) {
			return tx.Bucket(bWidgets).Delete(target)
		}
	case kindAgg:
		v := tx.Bucket(bAggs).Get(target)
		var a storedAgg
		if v != nil && (json.Unmarshal(v, &a) != nil || !a.DeleteAt.After(now)) {
			return tx.Bucket(bAggs).Delete(target)
		}
	}
	return nil
}

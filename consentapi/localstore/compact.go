package localstore

import (
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// compactIfErased compacts the file when a consent was erased since the
// last time; it runs once per CompactAfterErase.
func (s *Store) compactIfErased() {
	if !s.erased.Swap(false) {
		return
	}
	if err := s.Compact(); err != nil {
		// Try again next time: the erased data is still on free pages.
		s.erased.Store(true)
		s.logger.Error("compact after erasure", "err", err)
	}
}

// Compact rewrites the database into a fresh file that holds the live
// data only and puts it in place of the old one, whose free pages may
// still hold erased or expired data. Operations wait meanwhile.
func (s *Store) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tmp := s.path + ".compact"
	os.Remove(tmp) // left by a crash in an earlier Compact
	dst, err := openDB(tmp, s.noSync)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	if err := bolt.Compact(dst, s.db, 4<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("compact: %w", err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compact: %w", err)
	}
	if err := s.db.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compact: close the old file: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		err = fmt.Errorf("compact: %w", err)
		db, oerr := openDB(s.path, s.noSync)
		if oerr != nil {
			return fmt.Errorf("%w; reopen the old file: %w", err, oerr)
		}
		s.db = db
		return err
	}
	if !s.noSync {
		syncDir(filepath.Dir(s.path))
	}
	db, err := openDB(s.path, s.noSync)
	if err != nil {
		return fmt.Errorf("compact: reopen: %w", err)
	}
	s.db = db
	// No erasure can run while s.mu is held: every one before is gone
	// from the file.
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Delete(erasePending) }); err != nil {
		return fmt.Errorf("compact: clear the erasure mark: %w", err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

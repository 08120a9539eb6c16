package localstore_test

import (
	"path/filepath"
	"testing"

	"github.com/crumbhq/crumb/consentapi/localstore"
	"github.com/crumbhq/crumb/consentapi/storetest"
)

func TestScanStore(t *testing.T) {
	storetest.RunScans(t, func(tb testing.TB) storetest.ScanStore {
		s, err := localstore.Open(filepath.Join(tb.TempDir(), "crumb.db"), localstore.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		return s
	})
}

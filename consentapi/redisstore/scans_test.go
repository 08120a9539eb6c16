package redisstore_test

import (
	"testing"

	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/storetest"
)

func TestScanStore(t *testing.T) {
	srv := redistest.Start(t)
	storetest.RunScans(t, func(tb testing.TB) storetest.ScanStore {
		return open(tb, srv.URL())
	})
}

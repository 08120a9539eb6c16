package consentapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkConsentCreate records decisions through the handler (no
// network between client and server) on a real Redis with AOF, in
// parallel so that decisions share batches. cmd/loadtest measures the
// whole path over HTTP.
func BenchmarkConsentCreate(b *testing.B) {
	rs := redistest.Start(b)
	c, err := redisstore.Dial(rs.URL())
	if err != nil {
		b.Fatal(err)
	}
	st, err := redisstore.New(context.Background(), c, redisstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	cfg, err := siteconfig.Load("testdata/sites.yaml")
	if err != nil {
		b.Fatal(err)
	}
	srv, err := consentapi.NewServer(context.Background(), consentapi.Options{
		Sites: cfg, RateLimit: -1, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, st)
	if err != nil {
		b.Fatal(err)
	}
	banner, _ := srv.Banner("shop")
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(25) // 50 concurrent decisions on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"event_id":"bench-%016d","action":"custom","categories":{"necessary":true,"analytics":true,"marketing":false},"revision":1,"banner":%q,"language":"sv","widget_version":%q}`,
				seq.Add(1), banner.Banner, srv.WidgetVersion())
			req := httptest.NewRequest("POST", "/v1/sites/shop/consents", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

package consentapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/localstore"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/crumbhq/crumb/consentapi/store"
)

func TestUAFamily(t *testing.T) {
	tests := []struct{ ua, want string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36", "chrome"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0", "edge"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15", "safari"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/140.0 Mobile/15E148 Safari/604.1", "chrome"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0", "firefox"},
		{"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0 Mobile Safari/537.36", "samsung"},
		{"Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0 Safari/537.36 OPR/124.0", "opera"},
		{"curl/8.5.0", "other"},
		{"", "other"},
	}
	for _, tt := range tests {
		if got := uaFamily(tt.ua); got != tt.want {
			t.Errorf("uaFamily(%q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}

func TestCookieValue(t *testing.T) {
	r := store.Record{
		ConsentID: "Xk3u9Qm0aB1c2D3e4F5g6H", Revision: 3, RecordedAt: time.Unix(1795000000, 0),
		Categories: map[string]bool{"necessary": true, "analytics": true, "marketing": false, "video": true},
	}
	order := []string{"necessary", "analytics", "marketing", "video"}
	if got, want := cookieValue(r, order), "1.Xk3u9Qm0aB1c2D3e4F5g6H.3.analytics+video.1795000000"; got != want {
		t.Errorf("cookie %q, want %q", got, want)
	}
	r.Categories = map[string]bool{"necessary": true, "analytics": false}
	if got, want := cookieValue(r, order), "1.Xk3u9Qm0aB1c2D3e4F5g6H.3.-.1795000000"; got != want {
		t.Errorf("cookie %q, want %q", got, want)
	}
}

func TestConsentIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newConsentID()
		if !validConsentID(id) || seen[id] {
			t.Fatalf("id %q invalid or repeated", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "short", "Xk3u9Qm0aB1c2D3e4F5g6H=", "Xk3u9Qm0aB1c2D3e4F5g.H", "Xk3u9Qm0aB1c2D3e4F5g6ä"} {
		if validConsentID(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestLimiterIPv6: the addresses of one /64 share a bucket; another /64
// and IPv4 have their own.
func TestLimiterIPv6(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(1, 2, func() time.Time { return now })
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"} {
		if _, ok := l.allow(ip); !ok {
			t.Fatalf("%s refused within the /64's burst", ip)
		}
	}
	if _, ok := l.allow("2001:db8:1:2:abcd::7"); ok {
		t.Error("a third address of the same /64 got a token past the burst")
	}
	for _, ip := range []string{"2001:db8:1:3::1", "192.0.2.1", "::ffff:192.0.2.2"} {
		if _, ok := l.allow(ip); !ok {
			t.Errorf("%s refused: it is not in the exhausted /64", ip)
		}
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(2, 3, func() time.Time { return now })
	for i := range 3 {
		if _, ok := l.allow("192.0.2.1"); !ok {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	wait, ok := l.allow("192.0.2.1")
	if ok || wait != 1 {
		t.Fatalf("over the burst: ok=%v wait=%d, want refused for 1s", ok, wait)
	}
	if _, ok := l.allow("192.0.2.2"); !ok {
		t.Error("another client was refused")
	}
	now = now.Add(500 * time.Millisecond)
	if _, ok := l.allow("192.0.2.1"); !ok {
		t.Error("refused after refilling one token")
	}
	now = now.Add(time.Hour)
	l.sweep()
	for i := range l.shards {
		if n := len(l.shards[i].buckets); n != 0 {
			t.Fatalf("sweep left %d idle buckets", n)
		}
	}
}

// TestClientGoneErrors: a cancelled request is the client's doing whether
// the store passes context.Canceled on or reports itself unavailable; an
// unavailable store under a live request, or a timeout, is not.
func TestClientGoneErrors(t *testing.T) {
	live := context.Background()
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"context.Canceled", gone, context.Canceled, true},
		{"context.Canceled wrapped", gone, fmt.Errorf("latest: %w", context.Canceled), true},
		{"unavailable, keeping the cause", gone, fmt.Errorf("%w: %w", store.ErrUnavailable, context.Canceled), true},
		{"unavailable, dropping the cause", gone, fmt.Errorf("%w: context canceled", store.ErrUnavailable), true},
		{"unavailable, client still there", live, store.ErrUnavailable, false},
		{"store timeout", live, context.DeadlineExceeded, false},
		{"other error, client gone", gone, store.ErrNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clientGone(tt.ctx, tt.err); got != tt.want {
				t.Errorf("clientGone=%v, want %v", got, tt.want)
			}
		})
	}
}

// TestEveryGETAnswersHEAD: every route registered for GET is registered
// for HEAD too (routes added with get), so that a route added later with
// GET alone fails here.
func TestEveryGETAnswersHEAD(t *testing.T) {
	cfg, err := siteconfig.Load("testdata/sites.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := localstore.Open(filepath.Join(t.TempDir(), "crumb.db"), localstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := NewServer(context.Background(), Options{Sites: cfg, AdminToken: "t", RateLimit: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, st)
	if err != nil {
		t.Fatal(err)
	}
	head := map[string]bool{}
	var gets []string
	for _, r := range s.e.Routes() {
		switch r.Method {
		case http.MethodHead:
			head[r.Path] = true
		case http.MethodGet:
			gets = append(gets, r.Path)
		}
	}
	if len(gets) < 10 {
		t.Fatalf("only %d GET routes: %v", len(gets), gets)
	}
	for _, p := range gets {
		if !head[p] {
			t.Errorf("GET %s has no HEAD: add it with get()", p)
		}
	}
}

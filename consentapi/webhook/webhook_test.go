package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crumbhq/crumb/consentapi/webhook"
)

var secret = []byte("s3cret-of-the-site-owner")

// receiver is a site owner's endpoint: it verifies each delivery with
// webhook.Verify and answers fail[i] for the i-th request (200 after).
type receiver struct {
	t      *testing.T
	fail   []int
	mu     sync.Mutex
	calls  int
	events []webhook.Event
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.calls++
	if err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
		rc.t.Errorf("delivery %d: %v", rc.calls, err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		rc.t.Errorf("Content-Type = %q", got)
	}
	if i := rc.calls - 1; i < len(rc.fail) {
		w.WriteHeader(rc.fail[i])
		return
	}
	var ev webhook.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		rc.t.Errorf("decode event: %v", err)
	}
	if got := r.Header.Get(webhook.DeliveryHeader); got != ev.ID {
		rc.t.Errorf("%s = %q, want the event id %q", webhook.DeliveryHeader, got, ev.ID)
	}
	rc.events = append(rc.events, ev)
	w.WriteHeader(http.StatusNoContent)
}

func newSender(t *testing.T) (*webhook.Sender, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	s := webhook.NewSender(reg, slog.New(slog.NewTextHandler(t.Output(), nil)))
	s.BaseDelay, s.MaxDelay, s.MaxAttempts = 5*time.Millisecond, 40*time.Millisecond, 4
	return s, reg
}

var event = webhook.Event{ID: "shop@1795000000:scan.completed", Type: webhook.TypeScanCompleted, Site: "shop",
	CreatedAt: time.Unix(1795000000, 0).UTC(), Data: map[string]any{"new_categories": []string{"marketing"}}}

func TestSend(t *testing.T) {
	tests := []struct {
		name      string
		fail      []int
		calls     int
		delivered int
		outcome   string
		wantErr   error // nil, ErrRejected, or errAny
	}{
		{name: "first try", calls: 1, delivered: 1, outcome: "delivered"},
		{name: "retried after 503, 502 and 429", fail: []int{503, 502, 429}, calls: 4, delivered: 1, outcome: "delivered"},
		{name: "gives up after MaxAttempts", fail: []int{500, 500, 500, 500, 500}, calls: 4, outcome: "failed", wantErr: errAny},
		{name: "4xx is final", fail: []int{410}, calls: 1, outcome: "rejected", wantErr: webhook.ErrRejected},
		{name: "408 is retried", fail: []int{408}, calls: 2, delivered: 1, outcome: "delivered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &receiver{t: t, fail: tt.fail}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			s, reg := newSender(t)
			err := s.Send(context.Background(), srv.URL, secret, event)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Send: %v", err)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("Send = %v, want %v", err, tt.wantErr)
			}
			if rc.calls != tt.calls || len(rc.events) != tt.delivered {
				t.Errorf("receiver saw %d calls, accepted %d events; want %d, %d", rc.calls, len(rc.events), tt.calls, tt.delivered)
			}
			if tt.delivered == 1 {
				got := rc.events[0]
				if got.ID != event.ID || got.Type != event.Type || got.Site != "shop" || !got.CreatedAt.Equal(event.CreatedAt) {
					t.Errorf("received %+v, want %+v", got, event)
				}
			}
			if got := counter(t, reg, "shop", tt.outcome); got != 1 {
				t.Errorf("crumb_webhook_deliveries_total{outcome=%q} = %v, want 1", tt.outcome, got)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestSendNoRedirect: a receiver that redirects, here to a plain-http
// address inside the worker's network, gets no second post there; the
// delivery is rejected, not counted as delivered.
func TestSendNoRedirect(t *testing.T) {
	internal := &receiver{t: t}
	in := httptest.NewServer(internal)
	defer in.Close()
	hop := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, in.URL+"/internal/admin?x=1", http.StatusTemporaryRedirect)
	}))
	defer hop.Close()
	s, reg := newSender(t)
	s.Client.Transport = hop.Client().Transport
	err := s.Send(context.Background(), hop.URL, secret, event)
	if !errors.Is(err, webhook.ErrRejected) || !strings.Contains(err.Error(), "307") {
		t.Fatalf("Send through a redirect = %v, want ErrRejected naming 307", err)
	}
	if internal.calls != 0 {
		t.Errorf("the redirect target got %d posts, want none", internal.calls)
	}
	if got := counter(t, reg, "shop", "rejected"); got != 1 {
		t.Errorf("rejected deliveries = %v, want 1", got)
	}
}

// TestSendErrorsHideURLSecret: a hook URL's path and query are a secret
// (Slack's are); a failed delivery's error and log name only the host.
func TestSendErrorsHideURLSecret(t *testing.T) {
	var logs strings.Builder
	s := webhook.NewSender(nil, slog.New(slog.NewTextHandler(&logs, nil)))
	s.BaseDelay, s.MaxDelay, s.MaxAttempts = time.Millisecond, time.Millisecond, 2
	ln := httptest.NewServer(http.NotFoundHandler())
	addr := ln.Listener.Addr().String()
	ln.Close() // nothing listens there any more: connection refused
	err := s.Send(context.Background(), "http://"+addr+"/services/T000/B000/XXXXSECRETXXXX?token=abc", secret, event)
	if err == nil {
		t.Fatal("Send to a closed port succeeded")
	}
	for _, text := range []string{err.Error(), logs.String()} {
		if strings.Contains(text, "SECRET") || strings.Contains(text, "token=abc") {
			t.Errorf("the hook's secret path or query leaked:\n%s", text)
		}
		if !strings.Contains(text, addr) {
			t.Errorf("the host %s is not named:\n%s", addr, text)
		}
	}
}

// TestSenderSeriesAtZero: every outcome of every site given exists at 0
// before the first delivery, so increase() sees the first failure.
func TestSenderSeriesAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	webhook.NewSender(reg, nil, "shop", "blog")
	for _, site := range []string{"shop", "blog"} {
		for _, outcome := range webhook.Outcomes {
			if got := counter(t, reg, site, outcome); got != 0 {
				t.Errorf("crumb_webhook_deliveries_total{site=%q,outcome=%q} = %v, want 0", site, outcome, got)
			}
		}
	}
	if n := len(webhook.Outcomes); n != 3 {
		t.Errorf("%d outcomes, want delivered, rejected, failed", n)
	}
}

// counter reads crumb_webhook_deliveries_total{site, outcome} from reg.
func counter(t *testing.T, reg *prometheus.Registry, site, outcome string) float64 {
	t.Helper()
	want := fmt.Sprintf("crumb_webhook_deliveries_total{outcome=%q,site=%q}", outcome, site)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if mf.GetName() == "crumb_webhook_deliveries_total" && labels["site"] == site && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no %s", want)
	return 0
}

func TestSendStopsWithContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	s, _ := newSender(t)
	s.BaseDelay, s.MaxDelay, s.MaxAttempts = time.Hour, time.Hour, 10
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := s.Send(ctx, srv.URL, secret, event)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want context.DeadlineExceeded", err)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1795000000, 0)
	body := []byte(`{"id":"x","type":"scan.completed"}`)
	good := webhook.Sign(secret, now, body)
	rotated := webhook.Sign([]byte("old-secret"), now, body) + "," + strings.Split(good, ",")[1]
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, good, body, now, nil},
		{"valid within tolerance", secret, good, body, now.Add(4 * time.Minute), nil},
		{"one of two signatures during rotation", secret, rotated, body, now, nil},
		{"tampered body", secret, good, []byte(`{"id":"y","type":"scan.completed"}`), now, webhook.ErrBadSignature},
		{"wrong secret", []byte("guess"), good, body, now, webhook.ErrBadSignature},
		{"replayed later", secret, good, body, now.Add(10 * time.Minute), webhook.ErrStale},
		{"from the future", secret, good, body, now.Add(-10 * time.Minute), webhook.ErrStale},
		{"no header", secret, "", body, now, webhook.ErrNoSignature},
		{"no v1", secret, "t=1795000000", body, now, webhook.ErrNoSignature},
		{"no timestamp", secret, "v1=abcd", body, now, webhook.ErrBadSignature},
		{"garbage", secret, "garbage", body, now, webhook.ErrBadSignature},
		{"timestamp swapped", secret, strings.Replace(good, "t=1795000000", "t=1795000001", 1), body, now, webhook.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(tt.secret, tt.header, tt.body, tt.now, 0)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func ExampleVerify() {
	body := []byte(`{"id":"shop@1795000000:scan.completed","type":"scan.completed","site":"shop"}`)
	signedAt := time.Unix(1795000000, 0)
	header := webhook.Sign([]byte("secret"), signedAt, body)

	err := webhook.Verify([]byte("secret"), header, body, signedAt.Add(time.Minute), 0)
	fmt.Println("genuine:", err == nil)
	err = webhook.Verify([]byte("secret"), header, append(body, ' '), signedAt.Add(time.Minute), 0)
	fmt.Println("altered:", errors.Is(err, webhook.ErrBadSignature))
	// Output:
	// genuine: true
	// altered: true
}

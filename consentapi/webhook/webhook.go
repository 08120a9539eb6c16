// Package webhook tells site owners what changed on their site: crumb posts
// a JSON Event to the site's webhook URL after each scan, signed with
// HMAC-SHA256 (see SignatureHeader and Verify) and retried with exponential
// backoff and jitter, a bounded number of times.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Event types.
const (
	TypeScanCompleted = "scan.completed" // a scan finished; Data is the diff against the previous scan
	TypeScanFailed    = "scan.failed"    // a scan ran out of attempts
)

// Event is the body of one delivery. ID is stable across retries, so a
// receiver can drop a delivery it already processed.
type Event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Site      string    `json:"site"`
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
}

// Headers sent with every delivery besides SignatureHeader.
const (
	EventHeader    = "Crumb-Event"    // the event type
	DeliveryHeader = "Crumb-Delivery" // the event ID
)

// ErrRejected wraps a final answer from the receiver that a retry will not
// change (a 4xx other than 408 and 429).
var ErrRejected = errors.New("webhook rejected")

// Sender posts events. Its fields may be changed before first use.
type Sender struct {
	Client      *http.Client
	MaxAttempts int           // deliveries tried before giving up; default 6
	BaseDelay   time.Duration // wait after the first failure, doubled each time; default 2s
	MaxDelay    time.Duration // cap on one wait; default 2m
	Now         func() time.Time
	Logger      *slog.Logger

	deliveries *prometheus.CounterVec
}

// Delivery outcomes, as counted by crumb_webhook_deliveries_total.
const (
	OutcomeDelivered = "delivered" // the receiver answered 2xx
	OutcomeRejected  = "rejected"  // a final 4xx; not retried
	OutcomeFailed    = "failed"    // gave up after MaxAttempts
)

// Outcomes are the outcome label values of crumb_webhook_deliveries_total.
var Outcomes = []string{OutcomeDelivered, OutcomeRejected, OutcomeFailed}

// NewSender returns a Sender with defaults, registering its metric
// crumb_webhook_deliveries_total{site, outcome} on reg (nil for none).
// Outcomes: delivered, rejected, failed (gave up after MaxAttempts). The
// series of each of sites (the ids of the sites with a webhook) exist at 0
// from the start, every outcome, so increase() sees the first failure.
func NewSender(reg prometheus.Registerer, logger *slog.Logger, sites ...string) *Sender {
	s := &Sender{
		Client:      &http.Client{Timeout: 10 * time.Second, CheckRedirect: noRedirects},
		MaxAttempts: 6,
		BaseDelay:   2 * time.Second,
		MaxDelay:    2 * time.Minute,
		Now:         time.Now,
		Logger:      logger,
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crumb_webhook_deliveries_total",
			Help: "Webhook events by site and final outcome (delivered, rejected, failed).",
		}, []string{"site", "outcome"}),
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if reg != nil {
		reg.MustRegister(s.deliveries)
	}
	for _, site := range sites {
		for _, outcome := range Outcomes {
			s.deliveries.WithLabelValues(site, outcome)
		}
	}
	return s
}

// Send posts ev to url signed with secret, retrying network errors, 408,
// 429 and 5xx answers with backoff until one succeeds (2xx) or MaxAttempts
// are used. It returns nil on delivery, an error wrapping ErrRejected on a
// final 4xx, and the last error otherwise; ctx bounds all of it.
func (s *Sender) Send(ctx context.Context, target string, secret []byte, ev Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode webhook event: %w", err)
	}
	log := s.Logger.With("site", ev.Site, "event", ev.Type, "delivery", ev.ID)
	for attempt := 1; ; attempt++ {
		retry, err := s.post(ctx, target, secret, ev, body)
		if err == nil {
			s.deliveries.WithLabelValues(ev.Site, OutcomeDelivered).Inc()
			log.Info("webhook delivered", "attempt", attempt)
			return nil
		}
		if !retry {
			s.deliveries.WithLabelValues(ev.Site, OutcomeRejected).Inc()
			log.Warn("webhook rejected", "attempt", attempt, "err", err)
			return err
		}
		if attempt >= s.MaxAttempts {
			s.deliveries.WithLabelValues(ev.Site, OutcomeFailed).Inc()
			log.Warn("webhook failed, giving up", "attempts", attempt, "err", err)
			return fmt.Errorf("webhook: gave up after %d attempts: %w", attempt, err)
		}
		wait := s.backoff(attempt)
		if ra, ok := retryAfter(err); ok && ra > wait {
			wait = min(ra, s.MaxDelay)
		}
		log.Info("webhook attempt failed, retrying", "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			s.deliveries.WithLabelValues(ev.Site, OutcomeFailed).Inc()
			return fmt.Errorf("webhook: %w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// backoff is BaseDelay doubled per earlier attempt, capped at MaxDelay,
// with "equal jitter": a random point in its upper half, so receivers that
// recover together are not hit by every sender at once.
func (s *Sender) backoff(attempt int) time.Duration {
	d := s.BaseDelay
	for i := 1; i < attempt && d < s.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, s.MaxDelay)
	return d/2 + rand.N(d/2+1)
}

// statusError is a non-2xx answer.
type statusError struct {
	code       int
	retryAfter time.Duration
}

func (e *statusError) Error() string { return fmt.Sprintf("receiver answered %d", e.code) }

func retryAfter(err error) (time.Duration, bool) {
	var se *statusError
	if errors.As(err, &se) && se.retryAfter > 0 {
		return se.retryAfter, true
	}
	return 0, false
}

// post makes one delivery and says whether a failure is worth retrying.
func (s *Sender) post(ctx context.Context, target string, secret []byte, ev Event, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("webhook request to %s: %w", origin(target), unwrapURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "crumb-webhook/1")
	req.Header.Set(EventHeader, ev.Type)
	req.Header.Set(DeliveryHeader, ev.ID)
	req.Header.Set(SignatureHeader, Sign(secret, s.Now(), body))
	resp, err := s.Client.Do(req)
	if err != nil {
		return ctx.Err() == nil, fmt.Errorf("webhook post to %s: %w", origin(target), unwrapURL(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return false, nil
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		se := &statusError{code: c}
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n > 0 {
			se.retryAfter = time.Duration(n) * time.Second
		}
		return true, se
	case c >= 300 && c < 400:
		// Not followed: a receiver (or whoever took over its host) could
		// otherwise send the signed event on to any address, the worker's
		// own network included.
		return false, fmt.Errorf("%w: %w (redirects are not followed; configure the final URL)", ErrRejected, &statusError{code: c})
	default:
		return false, fmt.Errorf("%w: %w", ErrRejected, &statusError{code: c})
	}
}

// noRedirects makes the client hand a 3xx answer back as it is.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// origin is the scheme and host of a webhook URL, all that errors and logs
// show of it: the path and query of many hooks (Slack's, for one) are the
// secret that lets anyone post to them.
func origin(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return "the configured URL"
	}
	return u.Scheme + "://" + u.Host
}

// unwrapURL drops the *url.Error around err, which names the whole URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

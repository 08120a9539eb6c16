package schedule_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/schedule"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/consentapi/webhook"
	"github.com/crumbhq/crumb/scanner"
)

var hookSecret = []byte("site-owner-secret")

// hookReceiver is the site owner's endpoint: it verifies every delivery and
// keeps the events.
type hookReceiver struct {
	t      *testing.T
	mu     sync.Mutex
	events []webhook.Event
	data   []schedule.ScanEvent
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(hookSecret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
		h.t.Errorf("webhook: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev struct {
		webhook.Event
		Data schedule.ScanEvent `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		h.t.Errorf("webhook body: %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev.Event)
	h.data = append(h.data, ev.Data)
	w.WriteHeader(http.StatusNoContent)
}

func openRedisStore(t *testing.T) *redisstore.Store {
	t.Helper()
	srv := redistest.Start(t)
	c, err := redisstore.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	s, err := redisstore.New(context.Background(), c, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// applyOverrides is a Classify func: the override's verdict for matching
// items, as the classifier gives it.
func applyOverrides(r *scanner.Report, overrides []store.Override) error {
	for i := range r.Items {
		for _, o := range overrides {
			if o.Matches(r.Items[i]) {
				r.Items[i].Classification = &scanner.Classification{Category: o.Category, Provider: o.Provider, Source: scanner.SourceOverride}
			}
		}
	}
	return nil
}

func shopReport(finished time.Time, items ...scanner.Item) *scanner.Report {
	return &scanner.Report{SchemaVersion: scanner.SchemaVersion, Site: "https://shop.test/", FinishedAt: finished,
		Pages: []scanner.Page{{URL: "https://shop.test/", Mode: scanner.ModeNone}}, Items: items}
}

func withProvider(it scanner.Item, provider string) scanner.Item {
	it.Classification.Provider = provider
	return it
}

// TestResults: a site is scanned three times. The first scan sets the
// baseline; the second finds a new marketing cookie, so the revision goes
// up and the owner gets one signed event naming it; taking the second job
// in again (a retried job) changes nothing; the third finds the same
// cookies and raises nothing. An override for an unclassified item is
// applied to the next scan.
func TestResults(t *testing.T) {
	st := openRedisStore(t)
	recv := &hookReceiver{t: t}
	hook := httptest.NewServer(recv)
	defer hook.Close()
	sender := webhook.NewSender(prometheus.NewRegistry(), testLogger(t))
	sender.BaseDelay = 10 * time.Millisecond
	var changed []string
	// The service judges each scan against what its banner asked for.
	sites, err := siteconfig.Load("../testdata/sites.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := consentapi.NewServer(context.Background(), consentapi.Options{Sites: sites, RateLimit: -1, Logger: testLogger(t)}, st)
	if err != nil {
		t.Fatal(err)
	}
	res := &schedule.Results{
		Widens: srv.ScanRaise,
		Store:  st,
		Site: func(_ context.Context, id string) (schedule.SiteResults, bool) {
			return schedule.SiteResults{Revision: 3, RaiseRevision: true, Keep: 2, WebhookURL: hook.URL, WebhookSecret: hookSecret}, id == "shop"
		},
		Classify: applyOverrides,
		Webhook:  sender,
		Changed:  func(_ context.Context, site string) { changed = append(changed, site) },
		Logger:   testLogger(t),
	}
	ctx := context.Background()
	t0 := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	job := func(n int) jobqueue.Job {
		at := t0.Add(time.Duration(n) * 24 * time.Hour)
		return jobqueue.Job{ID: schedule.RunID("shop", at), Site: "shop", Reason: jobqueue.ReasonSchedule, ScheduledAt: at}
	}
	session := item("PHPSESSID", scanner.Necessary, "none", "accept-all")
	ga := withProvider(item("_ga", scanner.Analytics, "accept-all"), "Google Analytics")
	fbp := withProvider(item("_fbp", scanner.Marketing, "accept-all"), "Meta")
	mystery := item("zq_tag", scanner.Unclassified, "accept-all")

	// 1: baseline.
	if err := res.Done(ctx, job(0), shopReport(t0, session, ga)); err != nil {
		t.Fatal(err)
	}
	if rev, _ := st.SiteRevision(ctx, "shop"); rev > 3 {
		t.Fatalf("first scan raised the revision to %d", rev)
	}
	// 2: a marketing cookie appears.
	if err := res.Done(ctx, job(1), shopReport(t0.Add(24*time.Hour), session, ga, fbp, mystery)); err != nil {
		t.Fatal(err)
	}
	rev, err := st.SiteRevision(ctx, "shop")
	if err != nil || rev != 4 {
		t.Fatalf("revision after a new marketing cookie = %d, %v; want 4 (configured 3, raised once)", rev, err)
	}
	run, err := st.LatestScan(ctx, "shop")
	if err != nil || run.ID != job(1).ID || !run.RevisionRaised || run.Revision != 4 || run.Previous != job(0).ID {
		t.Fatalf("latest scan = %+v, %v", run.Summary(), err)
	}
	if d := run.Diff; len(d.Added) != 2 || len(d.NewCategories) != 1 || d.NewCategories[0] != scanner.Marketing ||
		len(d.NewProviders) != 1 || d.NewProviders[0].Name != "Meta" || len(d.NewUnclassified) != 1 {
		t.Errorf("diff = %+v", d)
	}
	// The same job taken in again: nothing more is raised or stored.
	if err := res.Done(ctx, job(1), shopReport(t0.Add(24*time.Hour), session, ga, fbp, mystery)); err != nil {
		t.Fatal(err)
	}
	if rev, _ := st.SiteRevision(ctx, "shop"); rev != 4 {
		t.Errorf("revision after a retried job = %d, want still 4", rev)
	}
	// The owner classifies the unknown item; the next scan uses it.
	if err := st.PutOverride(ctx, "shop", store.Override{Name: "zq_*", Category: scanner.Marketing, Provider: "Meta", SetAt: t0}); err != nil {
		t.Fatal(err)
	}
	// 3: the same cookies; the override moves zq_tag into marketing (a
	// known provider), so nothing widens.
	if err := res.Done(ctx, job(2), shopReport(t0.Add(48*time.Hour), session, ga, fbp, mystery)); err != nil {
		t.Fatal(err)
	}
	if rev, _ := st.SiteRevision(ctx, "shop"); rev != 4 {
		t.Errorf("revision after an unchanged scan = %d, want 4", rev)
	}
	last, err := st.LatestScan(ctx, "shop")
	if err != nil || last.Unclassified != 0 || last.RevisionRaised {
		t.Errorf("third scan = %+v, %v; want the override applied and no raise", last.Summary(), err)
	}
	// The owner moves zq_tag to a provider of its own. Setting the override
	// raises the revision (the service does that when it is set); the next
	// scan, compared with the previous one under the same overrides, must
	// not raise it again.
	if err := st.PutOverride(ctx, "shop", store.Override{Name: "zq_*", Category: scanner.Marketing, Provider: "Zq Ads", SetAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Refresh(ctx, "shop"); err != nil { // as PUT …/overrides does
		t.Fatal(err)
	}
	if err := res.Done(ctx, job(3), shopReport(t0.Add(72*time.Hour), session, ga, fbp, mystery)); err != nil {
		t.Fatal(err)
	}
	if last, err := st.LatestScan(ctx, "shop"); err != nil || last.RevisionRaised || len(last.Diff.NewProviders) != 0 {
		t.Errorf("scan after an override = %+v, diff %+v, %v; want no new provider and no raise", last.Summary(), last.Diff, err)
	}
	if list, _ := st.Scans(ctx, "shop"); len(list) != 2 {
		t.Errorf("history holds %d scans, want the 2 kept", len(list))
	}

	// The owner heard of each scan once, signed; the one that added the
	// marketing cookie says so.
	byID := map[string]int{}
	for _, ev := range recv.events {
		byID[ev.ID]++
	}
	for n := range 4 {
		if id := job(n).ID + ":scan.completed"; byID[id] < 1 {
			t.Errorf("no event for scan %d (%s); got %v", n, id, byID)
		}
	}
	if got := byID[job(1).ID+":scan.completed"]; got != 2 {
		// Once for the scan, once more for the retried job (same event id).
		t.Errorf("events for the widening scan = %d, want 2 with one id", got)
	}
	second := recv.data[1]
	if !second.Changed || second.Scan.Diff == nil || second.Scan.Revision != 4 || !second.Scan.RevisionRaised || second.Findings.Categories[scanner.Marketing] != 1 {
		t.Errorf("event for the widening scan = %+v", second)
	}
	if len(changed) != 5 {
		t.Errorf("Changed called %d times, want once per Done (5)", len(changed))
	}
	// A scan of a site no longer configured is dropped, not retried.
	if err := res.Done(ctx, jobqueue.Job{ID: "gone@1", Site: "gone"}, shopReport(t0)); err != nil {
		t.Errorf("Done for an unknown site = %v, want nil", err)
	}
}

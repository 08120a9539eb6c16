package consentapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/schedule"
	"github.com/crumbhq/crumb/scanner"
)

// gaConfigured lists Google Analytics' cookies in the configuration, under
// a provider name the scanner does not use.
var gaConfigured = []string{
	"          - name: _ga\n            purpose: {sv: Räknar besök, en: Counts visits}\n",
	"          - name: _ga\n            provider: Google LLC (Google Analytics)\n            party: shared\n            purpose: {sv: Räknar besök, en: Counts visits}\n" +
		"          - name: _ga_*\n            provider: Google LLC (Google Analytics)\n            party: shared\n            purpose: {sv: Sessionen, en: The session}\n",
}

// causeCount returns what the replica's raise counter holds for shop and
// cause, and whether the series exists.
func (r replica) causeCount(t *testing.T, cause string) (float64, bool) {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "crumb_banner_revision_raises_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["site"] == "shop" && labels["cause"] == cause {
				return m.GetCounter().GetValue(), true
			}
		}
	}
	return 0, false
}

// TestScanRaisesOnlyBeyondScope takes scans in as a worker does and checks
// the revision against what the banner asked for (R26): a first scan that
// reached no tracker is the baseline, and a complete scan finding only the
// trackers the configuration lists raises nothing; a new provider raises
// once, counted with cause scan; trackers that drop out of a scan and come
// back in the next raise nothing, whether the scan is judged when taken in
// (Results.Widens) or by the banner check (a worker in another process).
func TestScanRaisesOnlyBeyondScope(t *testing.T) {
	for _, ss := range sharedStores {
		t.Run(ss.name, func(t *testing.T) {
			open := ss.open(t)
			st := open()
			r := startReplica(t, configWith(t, gaConfigured...), st)
			ctx := context.Background()
			if n, ok := r.causeCount(t, "scan"); !ok || n != 0 {
				t.Fatalf("cause=scan series = %v, %v; want 0 from the start", n, ok)
			}
			inProcess := &schedule.Results{
				Store: st,
				Site: func(_ context.Context, id string) (schedule.SiteResults, bool) {
					return schedule.SiteResults{Revision: 1, RaiseRevision: true}, id == "shop"
				},
				Widens:  r.srv.ScanRaise,
				Changed: func(ctx context.Context, site string) { r.srv.Refresh(ctx, site) },
			}
			elsewhere := *inProcess
			elsewhere.Widens, elsewhere.Changed = nil, nil
			t0 := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
			n := 0
			scan := func(res *schedule.Results, items ...scanner.Item) (raised bool) {
				t.Helper()
				n++
				at := t0.Add(time.Duration(n) * time.Hour)
				job := jobqueue.Job{ID: fmt.Sprintf("shop@%d", n), Site: "shop", Reason: jobqueue.ReasonSchedule, ScheduledAt: at}
				rep := &scanner.Report{SchemaVersion: scanner.SchemaVersion, Site: "https://shop.example/", FinishedAt: at, Items: items}
				if err := res.Done(ctx, job, rep); err != nil {
					t.Fatal(err)
				}
				if res.Widens == nil { // the service's minutely refresh
					if err := r.srv.Refresh(ctx, "shop"); err != nil {
						t.Fatal(err)
					}
				}
				run, err := st.Scan(ctx, "shop", job.ID)
				if err != nil {
					t.Fatal(err)
				}
				return run.RevisionRaised
			}
			want := func(step string, rev int) {
				t.Helper()
				if got := revisionOf(t, st); got != rev {
					t.Errorf("%s: stored revision %d, want %d; log:\n%s", step, got, rev, r.log)
				}
				if b, _ := r.srv.Banner("shop"); b.Revision != rev {
					t.Errorf("%s: banner revision %d, want %d", step, b.Revision, rev)
				}
			}
			session := scanItem("PHPSESSID", scanner.Necessary, "")
			ga := scanItem("_ga", scanner.Analytics, "Google Analytics")
			ga4 := scanItem("_ga_1A2B3C", scanner.Analytics, "Google Analytics")
			fbp := scanItem("_fbp", scanner.Marketing, "Meta")
			hj := scanItem("_hjSessionUser", scanner.Analytics, "Hotjar")

			// An incomplete first scan (Chromium reached no third party)...
			scan(inProcess, session)
			want("incomplete first scan", 1)
			// ... then a complete one finding only what the banner lists.
			if scan(inProcess, session, ga, ga4) {
				t.Error("a scan finding only configured trackers says it raised the revision")
			}
			want("complete scan of configured trackers", 1)
			// A provider the banner did not list: raised once.
			if !scan(inProcess, session, ga, ga4, fbp) {
				t.Error("the scan adding Meta does not say it raised the revision")
			}
			want("new provider", 2)
			// GA and Meta drop out of a scan and come back.
			scan(inProcess, session)
			want("trackers dropped out", 2)
			if scan(inProcess, session, ga, ga4, fbp) {
				t.Error("trackers coming back say they raised the revision")
			}
			want("trackers back", 2)

			// Judged by the banner check: the same rules.
			scan(&elsewhere, session, ga, ga4, fbp, hj)
			want("new provider, worker elsewhere", 3)
			scan(&elsewhere, session, fbp)
			want("dropped out, worker elsewhere", 3)
			scan(&elsewhere, session, ga, ga4, fbp, hj)
			want("back, worker elsewhere", 3)

			if got, _ := r.causeCount(t, "scan"); got != 2 {
				t.Errorf("raises counted with cause scan = %v, want 2", got)
			}
			if got := r.raises(t); got != 2 {
				t.Errorf("raises counted = %v, want 2 (both scans)", got)
			}
			if logged := r.log.String(); !strings.Contains(logged, "cause=scan") || !strings.Contains(logged, "analytics|hotjar") {
				t.Errorf("the banner check's raise is not logged with cause scan:\n%s", logged)
			}
		})
	}
}

// TestStartCauseConfig starts with a configuration that no longer lists a
// scanned tracker: its scanned row shows under the scan's provider and
// raises the revision, and the cause is the configuration, not overrides
// (none are set).
func TestStartCauseConfig(t *testing.T) {
	for _, ss := range sharedStores {
		t.Run(ss.name, func(t *testing.T) {
			open := ss.open(t)
			st := open()
			t0 := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
			putScan(t, st, "shop@1", t0, "", scanItem("_ga", scanner.Analytics, "Google Analytics"))
			first := startReplica(t, configWith(t, gaConfigured...), st)
			if b, _ := first.srv.Banner("shop"); b.Revision != 1 {
				t.Fatalf("first start: revision %d, want 1", b.Revision)
			}
			// The _ga row is removed; _ga_* stays.
			r := startReplica(t, configWith(t, gaConfigured[0], "          - name: _ga_*\n            provider: Google LLC (Google Analytics)\n            party: shared\n            purpose: {sv: Sessionen, en: The session}\n"), open())
			if b, _ := r.srv.Banner("shop"); b.Revision != 2 {
				t.Fatalf("start without the _ga row: revision %d, want 2; log:\n%s", b.Revision, r.log)
			}
			logged := r.log.String()
			if !strings.Contains(logged, "cause=config") || strings.Contains(logged, "cause=overrides") || !strings.Contains(logged, "analytics|google analytics") {
				t.Errorf("want the raise logged with cause config; log:\n%s", logged)
			}
			if got, _ := r.causeCount(t, "config"); got != 1 {
				t.Errorf("raises counted with cause config = %v, want 1", got)
			}
			if got, _ := r.causeCount(t, "overrides"); got != 0 {
				t.Errorf("raises counted with cause overrides = %v, want 0", got)
			}
		})
	}
}

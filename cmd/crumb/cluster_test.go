package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/scanner/crawl/crawltest"
)

// clusterConfig is the example configuration with small scans: three
// pages, no consent.
func clusterConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	for old, repl := range map[string]string{"max_pages: 50": "max_pages: 3", "modes: [none, accept-all]": "modes: [none]"} {
		if strings.Count(cfg, old) != 1 {
			t.Fatalf("the example config no longer has %q once", old)
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	path := filepath.Join(t.TempDir(), "crumb.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCluster runs two crumb servers and one worker on one real
// three-master Redis Cluster. A decision recorded through one server is
// read, replayed, extended, exported and erased through the other; the
// weekly run both servers' schedulers offer is queued once, and it and a
// scan asked for on one server are crawled by the worker (a fixture of
// www.exempel.se in headless Chromium) and listed by the other server.
func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	site, err := crawltest.Start(&crawltest.Exempel{}, crawltest.ExempelHosts...)
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	cfg := clusterConfig(t)
	const token = "cluster-admin-token"
	environ := map[string]string{"CRUMB_ADMIN_TOKEN": token}
	a := startServe(t, environ, "-redis-url", c.URL(), "-config", cfg)
	b := startServe(t, environ, "-redis-url", c.URL(), "-config", cfg)
	banner := bannerHash(t, "exempel")

	resp, first, err := post(t, http.DefaultClient, a.base, banner, "evt-cluster-0000000001", "")
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("decision on server A: %v %v", resp, err)
	}
	id, _ := first["consent_id"].(string)
	if code, body := get(t, b.base+"/v1/sites/exempel/consents/"+id, ""); code != 200 || !strings.Contains(body, `"analytics":true`) {
		t.Fatalf("read on server B: %d %s", code, body)
	}
	// A retry of the same event through the other server is a replay.
	if resp, _, err := post(t, http.DefaultClient, b.base, banner, "evt-cluster-0000000001", ""); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("replayed decision on server B: %v %v", resp, err)
	}
	if resp, _, err := post(t, http.DefaultClient, b.base, banner, "evt-cluster-0000000002", id); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("second decision on server B: %v %v", resp, err)
	}
	if code, body := get(t, a.base+"/v1/sites/exempel/consents/"+id+"/export", ""); code != 200 || strings.Count(body, `"event_id"`) != 2 {
		t.Fatalf("export on server A: %d %s", code, body)
	}
	req, _ := http.NewRequest("DELETE", b.base+"/v1/sites/exempel/consents/"+id, nil)
	req.Header.Set("Origin", "https://www.exempel.se")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("erase on server B: %v %v", resp, err)
	}
	if code, body := get(t, a.base+"/v1/sites/exempel/consents/"+id, ""); code != 404 {
		t.Fatalf("read on server A after erasure: %d %s", code, body)
	}

	// A scan asked for on server A, beside the weekly run queued at start.
	req, _ = http.NewRequest("POST", a.base+"/v1/admin/sites/exempel/scans", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("scan now on server A: %v %v", resp, err)
	}
	resp.Body.Close()
	// One worker, on its own Redis client, crawls both jobs.
	ctx, stopWorker := context.WithCancel(context.Background())
	workerDone := make(chan error, 1)
	workerLog := &syncBuffer{}
	go func() {
		workerDone <- run(ctx, []string{"worker", "-redis-url", c.URL(), "-config", cfg, "-workers", "1",
			"-chromium-flags", strings.Join(site.Flags, " ")}, func(string) string { return "" }, strings.NewReader(""), io.Discard, workerLog)
	}()
	defer func() {
		stopWorker()
		if err := <-workerDone; err != nil {
			t.Errorf("worker: %v\n%s", err, workerLog)
		}
	}()
	var runs []store.ScanRun
	for deadline := time.Now().Add(2 * time.Minute); len(runs) < 2; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the worker did not finish both scans in 2 minutes; %d done\n%s", len(runs), workerLog)
		}
		runs = scansOf(t, b.base, token, "exempel")
	}
	reasons := map[string]int{}
	for _, r := range runs {
		reasons[r.Reason]++
		if r.Items == 0 || r.Pages == 0 {
			t.Errorf("scan %s found %d items on %d pages", r.ID, r.Items, r.Pages)
		}
	}
	if reasons[jobqueue.ReasonManual] != 1 || reasons[jobqueue.ReasonSchedule] != 1 {
		t.Errorf("scans by reason = %v, want one asked for and one scheduled", reasons)
	}
	scheduled := 0
	for _, s := range []*served{a, b} {
		code, body := get(t, s.base+"/metrics", token)
		if code != 200 || !strings.Contains(body, "crumb_scan_queue_depth 0") || !strings.Contains(body, "crumb_scan_queue_dead_jobs 0") ||
			!strings.Contains(body, `crumb_scan_items{category="marketing",site="exempel"}`) {
			t.Errorf("%s metrics do not show the drained queue and the scan's items: %d", s.base, code)
		}
		scheduled += strings.Count(body, `crumb_scan_jobs_queued_total{reason="schedule",site="exempel"} 1`)
	}
	if scheduled != 1 {
		t.Errorf("%d servers say they queued the scheduled run, want exactly 1", scheduled)
	}
}

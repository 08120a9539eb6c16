package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/jobqueue/redisqueue"
	"github.com/crumbhq/crumb/consentapi/redisstore"
	"github.com/crumbhq/crumb/consentapi/redistest"
)

// TestCluster runs two crumb servers on one real three-master Redis
// Cluster: a decision recorded through one is read, extended, exported and
// erased through the other, and a scan asked for on one lands in the one
// shared job queue that both see.
func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	const token = "cluster-admin-token"
	environ := map[string]string{"CRUMB_ADMIN_TOKEN": token}
	a := startServe(t, environ, "-redis-url", c.URL())
	b := startServe(t, environ, "-redis-url", c.URL())
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

	// A scan asked for on server A is queued once in the cluster; both
	// servers report the shared queue.
	req, _ = http.NewRequest("POST", a.base+"/v1/admin/sites/exempel/scans", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("scan now on server A: %v %v", resp, err)
	}
	resp.Body.Close()
	client, err := redisstore.Dial(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	q, err := redisqueue.New(client, "", jobqueue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Two jobs: the one asked for, and the weekly run that both servers'
	// schedulers offered at start, queued once.
	reasons := map[string]int{}
	for range 2 {
		d, err := q.Receive(ctx, "cluster-test")
		if err != nil || d.Job.Site != "exempel" {
			t.Fatalf("queued scan job = %+v, %v", d.Job, err)
		}
		reasons[d.Job.Reason]++
	}
	if reasons[jobqueue.ReasonManual] != 1 || reasons[jobqueue.ReasonSchedule] != 1 {
		t.Errorf("jobs by reason = %v, want one manual and one scheduled", reasons)
	}
	scheduled := 0
	for _, s := range []*served{a, b} {
		code, body := get(t, s.base+"/metrics", token)
		if code != 200 || !strings.Contains(body, "crumb_scan_queue_depth 2") || !strings.Contains(body, "crumb_scan_queue_in_flight 2") {
			t.Errorf("%s metrics do not show the shared queue: %d", s.base, code)
		}
		scheduled += strings.Count(body, `crumb_scan_jobs_queued_total{reason="schedule",site="exempel"} 1`)
	}
	if scheduled != 1 {
		t.Errorf("%d servers say they queued the scheduled run, want exactly 1", scheduled)
	}
}

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/redistest"
)

func TestWorkerUsage(t *testing.T) {
	tests := []struct {
		args    []string
		environ map[string]string
		want    string
	}{
		{nil, nil, "no Redis"},
		{[]string{"-redis-url", "redis://127.0.0.1:1", "-workers", "0"}, nil, "workers 0"},
		{[]string{"-redis-url", "redis://127.0.0.1:1", "-visibility", "1s"}, nil, "visibility 1s"},
		{[]string{"-redis-url", "redis://127.0.0.1:1", "extra"}, nil, `unexpected argument "extra"`},
		{nil, map[string]string{"CRUMB_REDIS_URL": "redis://127.0.0.1:1", "CRUMB_WORKERS": "many"}, `CRUMB_WORKERS="many"`},
		{[]string{"-redis-url", "ftp://x", "-config", exampleConfig}, nil, "redis url"},
		{[]string{"-redis-url", "redis://127.0.0.1:1", "-config", "nope.yaml"}, nil, "nope.yaml"},
	}
	for _, tt := range tests {
		var stderr strings.Builder
		err := run(context.Background(), append([]string{"worker"}, tt.args...), func(k string) string { return tt.environ[k] },
			strings.NewReader(""), io.Discard, &stderr)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("worker %v: exit %d, %v; want 2 naming %q", tt.args, exitCode(err), err, tt.want)
		}
	}
	var stderr strings.Builder
	err := run(context.Background(), []string{"worker", "-h"}, func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
	if exitCode(err) != 0 || !strings.Contains(stderr.String(), "CRUMB_SCAN_VISIBILITY") {
		t.Errorf("worker -h: exit %d, usage %q", exitCode(err), stderr.String())
	}
}

// TestWorkerRuns: the real program's worker subcommand against a real
// Redis serves its queue metrics behind the token and stops on cancel.
func TestWorkerRuns(t *testing.T) {
	srv := redistest.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stderr := &syncBuffer{}
	environ := map[string]string{"CRUMB_METRICS_TOKEN": "metrics-token"}
	go func() {
		done <- run(ctx, []string{"worker", "-redis-url", srv.URL(), "-config", exampleConfig, "-workers", "1", "-metrics-addr", metricsAddr},
			func(k string) string { return environ[k] }, strings.NewReader(""), io.Discard, stderr)
	}()
	var body string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest("GET", "http://"+metricsAddr+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer metrics-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		break
	}
	if !strings.Contains(body, "crumb_scan_queue_depth 0") {
		t.Errorf("worker metrics lack the queue depth:\n%.500s\nstderr:\n%s", body, stderr)
	}
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("metrics without the token: %d, want 401", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("worker exited with %v\n%s", err, stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("worker did not stop on cancel")
	}
}

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/jobqueue/redisqueue"
	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/schedule"
	"github.com/crumbhq/crumb/scanner/crawl"
	"github.com/crumbhq/crumb/scanner/crawl/crawltest"
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
		{[]string{"-redis-url", "redis://127.0.0.1:1", "-metrics-addr", "bogus"}, nil, `metrics addr "bogus": want host:port`},
		{[]string{"-redis-url", "redis://127.0.0.1:1", "-health-addr", "127.0.0.1:99999"}, nil, `health addr "127.0.0.1:99999"`},
		{[]string{"-redis-url", "redis://127.0.0.1:1", "-metrics-addr", "127.0.0.1:0"}, map[string]string{"CRUMB_METRICS_TOKEN": "short"},
			"CRUMB_METRICS_TOKEN has 5 characters: want at least 16"},
		{[]string{"-redis-url", "redis://127.0.0.1:1"}, map[string]string{"CRUMB_METRICS_TOKEN": "worker-metrics-token-01\n"},
			"CRUMB_METRICS_TOKEN has leading or trailing white space"},
		// Without CRUMB_METRICS_TOKEN the admin token guards /metrics.
		{[]string{"-redis-url", "redis://127.0.0.1:1"}, map[string]string{"CRUMB_ADMIN_TOKEN": "admin"}, "CRUMB_ADMIN_TOKEN has 5 characters"},
	}
	for _, tt := range tests {
		var stderr strings.Builder
		err := run(context.Background(), append([]string{"worker"}, tt.args...), func(k string) string { return tt.environ[k] },
			strings.NewReader(""), io.Discard, &stderr)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("worker %v: exit %d, %v; want 2 naming %q", tt.args, exitCode(err), err, tt.want)
		}
	}
	// A variable the flag refuses is one problem, not also the zero value
	// it would have left behind ("workers 0: want 1 to 64").
	err := run(context.Background(), []string{"worker", "-redis-url", "redis://127.0.0.1:1"},
		func(k string) string { return map[string]string{"CRUMB_WORKERS": "x"}[k] }, strings.NewReader(""), io.Discard, io.Discard)
	if want := `worker: CRUMB_WORKERS="x": want a whole number`; exitCode(err) != 2 || err.Error() != want {
		t.Errorf("CRUMB_WORKERS=x: exit %d, %v; want 2, %q", exitCode(err), err, want)
	}
	var stderr strings.Builder
	err = run(context.Background(), []string{"worker", "-h"}, func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
	if exitCode(err) != 0 || !strings.Contains(stderr.String(), "CRUMB_SCAN_VISIBILITY") {
		t.Errorf("worker -h: exit %d, usage %q", exitCode(err), stderr.String())
	}
}

// TestChromiumCheckedAtStart: crumb worker, and crumb serve with
// in-process workers, refuse at start a Chromium they could not run
// (instead of failing every scan attempt into the dead-letter list), and
// Chromium flags that do not start with --, as crumb scan does.
func TestChromiumCheckedAtStart(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "chromium.txt")
	if err := os.WriteFile(notExec, []byte("not a browser"), 0o644); err != nil {
		t.Fatal(err)
	}
	real, err := crawl.FindChromium()
	if err != nil {
		t.Fatal(err)
	}
	worker := []string{"worker", "-redis-url", "redis://127.0.0.1:1", "-config", exampleConfig}
	serve := []string{"serve", "-config", exampleConfig, "-addr", "127.0.0.1:0", "-data-dir", filepath.Join(dir, "data"), "-workers", "1"}
	tests := []struct {
		name    string
		args    []string
		environ map[string]string
		path    string // PATH, if not the test's own
		want    string
	}{
		{"worker missing file", append(worker, "-chromium", "/nonexistent/chromium"), nil, "",
			`-chromium (or CRUMB_CHROMIUM) "/nonexistent/chromium": no such file`},
		{"worker env missing file", worker, map[string]string{"CRUMB_CHROMIUM": "/nonexistent/c"}, "",
			`-chromium (or CRUMB_CHROMIUM) "/nonexistent/c": no such file`},
		{"worker not executable", append(worker, "-chromium", notExec), nil, "", notExec + `": not executable`},
		{"worker directory", append(worker, "-chromium", dir), nil, "", dir + `"`},
		{"worker name not on PATH", append(worker, "-chromium", "chromium-nope"), nil, "", `"chromium-nope": not found on PATH`},
		{"worker no browser on PATH", worker, nil, dir, "no Chromium found on PATH"},
		{"worker flags without --", append(worker, "-chromium-flags", "nodashes"), nil, "",
			`-chromium-flags (or CRUMB_CHROMIUM_FLAGS) "nodashes": each flag must start with --`},
		{"worker env flags without --", worker, map[string]string{"CRUMB_CHROMIUM_FLAGS": "proxy-server=x --no-sandbox"}, "",
			`CRUMB_CHROMIUM_FLAGS) "proxy-server=x --no-sandbox"`},
		{"serve missing file", serve, map[string]string{"CRUMB_CHROMIUM": "/nonexistent/c"}, "", `serve: CRUMB_CHROMIUM "/nonexistent/c": no such file`},
		{"serve not executable", serve, map[string]string{"CRUMB_CHROMIUM": notExec}, "", "not executable"},
		{"serve no browser on PATH", serve, nil, dir, "no Chromium found on PATH"},
		{"serve flags without --", serve, map[string]string{"CRUMB_CHROMIUM_FLAGS": "no-sandbox"}, "", `CRUMB_CHROMIUM_FLAGS "no-sandbox": each flag must start with --`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.path != "" {
				t.Setenv("PATH", tt.path)
			}
			err := run(context.Background(), tt.args, func(k string) string { return tt.environ[k] }, strings.NewReader(""), io.Discard, io.Discard)
			if exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("exit %d, %v; want 2 naming %q", exitCode(err), err, tt.want)
			}
		})
	}
	// A browser given by path, with well-formed flags, passes; serve
	// without workers needs none.
	if _, err := workerFlags([]string{"-redis-url", "redis://127.0.0.1:1", "-chromium", real, "-chromium-flags", "--no-sandbox --lang=en"}, env{getenv: func(string) string { return "" }}); err != nil {
		t.Errorf("worker with -chromium %s: %v", real, err)
	}
	t.Setenv("PATH", dir)
	if _, err := serveFlags(nil, env{getenv: func(k string) string { return map[string]string{"CRUMB_CHROMIUM": "/nonexistent/c"}[k] }}); err != nil {
		t.Errorf("serve without workers: %v", err)
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
	environ := map[string]string{"CRUMB_METRICS_TOKEN": "worker-metrics-token"}
	go func() {
		// -health-addr equal to -metrics-addr: one listener serves both.
		done <- run(ctx, []string{"worker", "-redis-url", srv.URL(), "-config", exampleConfig, "-workers", "1",
			"-metrics-addr", metricsAddr, "-health-addr", metricsAddr},
			func(k string) string { return environ[k] }, strings.NewReader(""), io.Discard, stderr)
	}()
	var body string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest("GET", "http://"+metricsAddr+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer worker-metrics-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		break
	}
	for _, want := range []string{
		"crumb_scan_queue_depth 0",
		`crumb_build_info{goversion="`,
		`crumb_scans_total{outcome="failed",site="exempel"} 0`, // at 0 from the start: increase() sees a first failure
	} {
		if !strings.Contains(body, want) {
			t.Errorf("worker metrics lack %s:\n%.500s\nstderr:\n%s", want, body, stderr)
		}
	}
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("metrics without the token: %d %q, want 401 with a challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// The scheme in any case, as crumb serve takes it (RFC 9110 §11.1).
	for auth, want := range map[string]int{
		"bearer worker-metrics-token": http.StatusOK,
		"BEARER worker-metrics-token": http.StatusOK,
		"Bearer wrong-token":          http.StatusUnauthorized,
		"Basic worker-metrics-token":  http.StatusUnauthorized,
	} {
		if got := status(t, "GET", "http://"+metricsAddr+"/metrics", auth); got != want {
			t.Errorf("metrics with Authorization %q: %d, want %d", auth, got, want)
		}
	}
	// The probes need no token.
	for _, p := range []struct{ method, path string }{
		{"GET", "/healthz"}, {"HEAD", "/healthz"}, {"GET", "/readyz"}, {"HEAD", "/readyz"},
	} {
		if got := status(t, p.method, "http://"+metricsAddr+p.path, ""); got != http.StatusOK {
			t.Errorf("%s %s: %d, want 200", p.method, p.path, got)
		}
	}
	if got := status(t, "POST", "http://"+metricsAddr+"/healthz", ""); got != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz: %d, want 405", got)
	}
	cancel()
	if err := exitOf(t, done); err != nil {
		t.Errorf("worker exited with %v\n%s", err, stderr)
	}
}

// exitOf waits up to 15 s for a stopped worker's run to return, and
// returns its error.
func exitOf(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("worker did not stop")
		return nil
	}
}

// status sends one request and returns its status code.
func status(t *testing.T, method, url, auth string) int {
	t.Helper()
	code, _ := probe(t, method, url, auth)
	return code
}

// probe sends one request and returns its status code and body.
func probe(t *testing.T, method, url, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestValidBearer(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"Bearer s3cret", true},
		{"bearer s3cret", true},
		{"BEARER s3cret", true},
		{"bEaReR s3cret", true},
		{"Bearer s3cre", false},
		{"Bearer s3cret2", false},
		{"Bearer  s3cret", false},
		{"Bearer", false},
		{"Bearers3cret", false},
		{"Basic s3cret", false},
		{"s3cret", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := validBearer(tt.header, "s3cret"); got != tt.want {
			t.Errorf("validBearer(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

// TestWorkerProbesFollowRedis: with only -health-addr (metrics off), the
// worker serves /healthz and /readyz and no /metrics; /readyz answers 503
// with a reason while Redis is down and 200 again once it is back, and
// /healthz 200 throughout; the worker keeps running.
func TestWorkerProbesFollowRedis(t *testing.T) {
	srv := redistest.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stderr := &syncBuffer{}
	environ := map[string]string{"CRUMB_METRICS_TOKEN": "worker-metrics-token"}
	go func() {
		done <- run(ctx, []string{"worker", "-redis-url", srv.URL(), "-config", exampleConfig, "-workers", "1", "-health-addr", ln.Addr().String()},
			func(k string) string { return environ[k] }, strings.NewReader(""), io.Discard, stderr)
	}()
	defer func() {
		cancel()
		if err := exitOf(t, done); err != nil {
			t.Errorf("worker exited with %v\n%s", err, stderr)
		}
	}()
	// until polls path until it answers want, and returns the last answer
	// and how long it took.
	until := func(path string, want int) (int, string, time.Duration) {
		t.Helper()
		start := time.Now()
		var (
			code int
			body string
		)
		for deadline := start.Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			req, _ := http.NewRequest("GET", base+path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if code, body = resp.StatusCode, string(b); code == want {
				break
			}
		}
		return code, body, time.Since(start)
	}
	if code, body, _ := until("/readyz", http.StatusOK); code != http.StatusOK {
		t.Fatalf("/readyz with Redis up: %d %q, want 200\n%s", code, body, stderr)
	}
	if got := status(t, "GET", base+"/healthz", ""); got != http.StatusOK {
		t.Errorf("/healthz: %d, want 200", got)
	}
	if got := status(t, "GET", base+"/metrics", "Bearer worker-metrics-token"); got != http.StatusNotFound {
		t.Errorf("/metrics on the health-only listener: %d, want 404", got)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	code, body, took := until("/readyz", http.StatusServiceUnavailable)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "unreachable") {
		t.Fatalf("/readyz with Redis stopped: %d %q, want 503 naming what is unreachable", code, body)
	}
	t.Logf("Redis stopped: /readyz 503 after %s: %s", took.Round(time.Millisecond), strings.TrimSpace(body))
	start := time.Now()
	code, _ = probe(t, "GET", base+"/readyz", "")
	if took := time.Since(start); code != http.StatusServiceUnavailable || took > 2*time.Second {
		t.Errorf("/readyz with Redis down: %d in %s; want 503 within the probe's bound", code, took)
	}
	if got := status(t, "HEAD", base+"/healthz", ""); got != http.StatusOK {
		t.Errorf("/healthz with Redis stopped: %d, want 200 (the process is alive)", got)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	code, body, took = until("/readyz", http.StatusOK)
	if code != http.StatusOK {
		t.Fatalf("/readyz after Redis restarted: %d %q, want 200\n%s", code, body, stderr)
	}
	t.Logf("Redis restarted: /readyz 200 after %s", took.Round(time.Millisecond))
}

// TestWorkerStopReleasesScan: the real crumb worker, with its default
// 5-minute visibility, stopped while headless Chromium waits on a page that
// never finishes, gives the job back as it exits: another machine's
// consumer receives it within seconds, as attempt 1, instead of after the
// visibility timeout.
func TestWorkerStopReleasesScan(t *testing.T) {
	srv := redistest.Start(t)
	loading := make(chan struct{}, 1)
	unblock := make(chan struct{})
	site, err := crawltest.Start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case loading <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-unblock:
		}
	}), "slow.test")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	defer close(unblock)

	rdb := redis.NewClient(&redis.Options{Network: srv.Network(), Addr: srv.Addr()})
	defer rdb.Close()
	q, err := redisqueue.New(rdb, "", jobqueue.Options{Visibility: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	job := jobqueue.Job{ID: "exempel@stop", Site: "exempel", Reason: jobqueue.ReasonManual, ScheduledAt: time.Now().UTC(),
		Data: schedule.ScanSettings{StartURLs: []string{"https://slow.test/"}, MaxPages: 1, Modes: []string{"none"}}.Encode()}
	if ok, err := q.Enqueue(context.Background(), job, time.Hour); !ok || err != nil {
		t.Fatalf("Enqueue = %v, %v", ok, err)
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	stderr := &syncBuffer{}
	go func() {
		done <- run(ctx, []string{"worker", "-redis-url", srv.URL(), "-config", exampleConfig, "-workers", "1",
			"-chromium-flags", strings.Join(site.Flags, " ")}, func(string) string { return "" }, strings.NewReader(""), io.Discard, stderr)
	}()
	select {
	case <-loading:
	case <-time.After(60 * time.Second):
		t.Fatalf("the worker's Chromium never asked for the page\n%s", stderr)
	}
	stoppedAt := time.Now()
	stop()
	if err := exitOf(t, done); err != nil {
		t.Fatalf("worker exited with %v\n%s", err, stderr)
	}
	exited := time.Since(stoppedAt)

	rctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := q.Receive(rctx, "other-machine")
	if err != nil {
		t.Fatalf("no other consumer got the job within a minute of the worker stopping (visibility 5m): %v\n%s", err, stderr)
	}
	moved := time.Since(stoppedAt)
	t.Logf("worker exited %s after stop; job received elsewhere %s after stop (visibility 5m)", exited.Round(time.Millisecond), moved.Round(time.Millisecond))
	if d.Job.ID != job.ID || d.Attempt != 1 {
		t.Errorf("received %s attempt %d, want %s attempt 1", d.Job.ID, d.Attempt, job.ID)
	}
	if !strings.Contains(stderr.String(), "job released to another worker") {
		t.Errorf("worker log does not say the job was released:\n%s", stderr)
	}
	if err := q.Ack(context.Background(), d); err != nil {
		t.Errorf("Ack by the new owner: %v", err)
	}
}

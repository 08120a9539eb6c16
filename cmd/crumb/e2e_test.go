package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/redistest"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/redis/go-redis/v9"
)

// TestServeRedis runs `crumb serve` on a real redis-server and follows a
// decision through the API into Redis, the admin API and the metrics.
func TestServeRedis(t *testing.T) {
	rs := redistest.Start(t)
	environ := map[string]string{"CRUMB_REDIS_URL": rs.URL(), "CRUMB_ADMIN_TOKEN": "e2e-admin-token-01", "CRUMB_LOG_FORMAT": "json"}
	s := startServe(t, environ)
	banner := bannerHash(t, "exempel")

	if code, body := get(t, s.base+"/healthz", ""); code != 200 {
		t.Fatalf("healthz %d %s", code, body)
	}
	if code, body := get(t, s.base+"/readyz", ""); code != 200 {
		t.Fatalf("readyz %d %s", code, body)
	}
	resp, out, err := post(t, http.DefaultClient, s.base, banner, "e2e-event-000000001", "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || resp.Header.Get("Access-Control-Allow-Origin") != "https://www.exempel.se" {
		t.Fatalf("decision: %d %v %v", resp.StatusCode, resp.Header, out)
	}
	id, _ := out["consent_id"].(string)

	rc := redis.NewClient(&redis.Options{Network: rs.Network(), Addr: rs.Addr()})
	defer rc.Close()
	stored, err := rc.Get(context.Background(), "crumb:{exempel}:r:e2e-event-000000001").Result()
	if err != nil || !strings.Contains(stored, id) || !strings.Contains(stored, `"user_agent":"other"`) {
		t.Fatalf("record in Redis: %q, %v", stored, err)
	}
	if ttl := rc.TTL(context.Background(), "crumb:{exempel}:r:e2e-event-000000001").Val(); ttl < 360*24*time.Hour {
		t.Errorf("record TTL %v, want about the 12 month retention", ttl)
	}

	if code, body := get(t, s.base+"/v1/sites/exempel/consents/"+id, ""); code != 200 || !strings.Contains(body, `"action":"custom"`) {
		t.Errorf("read consent: %d %s", code, body)
	}
	today := time.Now().UTC().Format("2006-01-02")
	if code, body := get(t, s.base+"/v1/admin/sites/exempel/stats?from="+today+"&to="+today, "e2e-admin-token-01"); code != 200 || !strings.Contains(body, `"decisions":1`) {
		t.Errorf("stats: %d %s", code, body)
	}
	if code, body := get(t, s.base+"/metrics", "e2e-admin-token-01"); code != 200 || !strings.Contains(body, `crumb_consent_decisions_total{action="custom",site="exempel"} 1`) ||
		!strings.Contains(body, `crumb_build_info{goversion="`) {
		t.Errorf("metrics: %d %.300s", code, body)
	}
	if code, _ := get(t, s.base+"/metrics", ""); code != 401 {
		t.Errorf("metrics without token: %d, want 401", code)
	}
	if !strings.Contains(s.stderr.String(), `"msg":"listening"`) {
		t.Errorf("no JSON listening line in the log:\n%s", s.stderr)
	}
}

// TestServeEmbeddedRestart runs with no Redis: the embedded store keeps a
// decision across a restart.
func TestServeEmbeddedRestart(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, nil, "-data-dir", dir)
	banner := bannerHash(t, "exempel")
	resp, out, err := post(t, http.DefaultClient, s.base, banner, "e2e-embedded-00000001", "")
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("decision: %v %v %v", resp, out, err)
	}
	s.stop(t)
	s = startServe(t, nil, "-data-dir", dir)
	if code, body := get(t, s.base+fmt.Sprintf("/v1/sites/exempel/consents/%s", out["consent_id"]), ""); code != 200 {
		t.Fatalf("after restart: %d %s", code, body)
	}
}

// TestServeShutdownLosesNothing stops the server while decisions are in
// flight: every decision answered 2xx is in Redis afterwards.
func TestServeShutdownLosesNothing(t *testing.T) {
	rs := redistest.Start(t)
	s := startServe(t, map[string]string{"CRUMB_REDIS_URL": rs.URL(), "CRUMB_RATE_LIMIT": "-1"})
	banner := bannerHash(t, "exempel")
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				ev := fmt.Sprintf("shutdown-%02d-%06d", w, i)
				resp, _, err := post(t, client, s.base, banner, ev, "")
				if err != nil {
					return // the server has stopped accepting
				}
				if resp.StatusCode/100 == 2 {
					mu.Lock()
					acked = append(acked, ev)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	s.stop(t)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no decision was acknowledged")
	}
	rc := redis.NewClient(&redis.Options{Network: rs.Network(), Addr: rs.Addr()})
	defer rc.Close()
	for _, ev := range acked {
		if n := rc.Exists(context.Background(), "crumb:{exempel}:r:"+ev).Val(); n != 1 {
			t.Errorf("acknowledged decision %s is not in Redis", ev)
		}
	}
	t.Logf("%d decisions acknowledged before shutdown, all in Redis", len(acked))
}

// TestServeUsage checks that bad invocations exit 2 with a message naming
// the problem, and that a Redis without AOF, or one that answers before it
// fsyncs, is refused.
func TestServeUsage(t *testing.T) {
	noAOF := redistest.StartWith(t, redistest.Options{Args: []string{"--appendonly", "no"}})
	everysec := redistest.StartWith(t, redistest.Options{Args: []string{"--appendfsync", "everysec"}})
	bad := t.TempDir() + "/bad.yaml"
	writeFileAtomic(bad, "sites:\n  - id: shop\n    name: Shop\n    origins: [ftp://x]\n    privacy_policy_url: /p\n")
	tests := []struct {
		name    string
		args    []string
		environ map[string]string
		code    int
		want    string
	}{
		{"unknown flag", []string{"serve", "-nope"}, nil, 2, "flag provided but not defined"},
		{"extra argument", []string{"serve", "now"}, nil, 2, `unexpected argument "now"`},
		{"bad env", []string{"serve"}, map[string]string{"CRUMB_RATE_LIMIT": "lots"}, 2, `CRUMB_RATE_LIMIT="lots"`},
		{"bad log format", []string{"serve", "-log-format", "xml"}, nil, 2, "log format"},
		{"bad proxy", []string{"serve", "-trusted-proxies", "10.0.0.0/99"}, nil, 2, "trusted proxy"},
		{"missing config", []string{"serve", "-config", "/nonexistent.yaml"}, nil, 2, "nonexistent.yaml"},
		{"invalid config", []string{"serve", "-config", bad}, nil, 2, `bad.yaml: site "shop": origins[0]`},
		{"bad redis url", []string{"serve", "-config", exampleConfig, "-redis-url", "http://x"}, nil, 2, "redis url"},
		{"redis without AOF", []string{"serve", "-config", exampleConfig, "-redis-url", noAOF.URL()}, nil, 1, "appendonly"},
		{"negative erase rewrite", []string{"serve", "-erase-rewrite", "-1h"}, nil, 2, "erase rewrite"},
		{"bad redis fsync", []string{"serve", "-redis-fsync", "sometimes"}, nil, 2, `redis fsync "sometimes"`},
		{"redis fsync everysec", []string{"serve", "-config", exampleConfig, "-redis-url", everysec.URL()}, nil, 1, `appendfsync is "everysec"`},
		{"addr without port", []string{"serve", "-addr", "notanaddr"}, nil, 2, `addr "notanaddr"`},
		{"addr port out of range", []string{"serve", "-addr", "127.0.0.1:99999"}, nil, 2, `addr "127.0.0.1:99999"`},
		{"negative rate limit", []string{"serve", "-rate-limit", "-5"}, nil, 2, "rate limit -5"},
		{"NaN rate limit", []string{"serve", "-rate-limit", "NaN"}, nil, 2, "rate limit NaN"},
		{"negative rate burst", []string{"serve", "-rate-burst", "-3"}, nil, 2, "rate burst -3"},
		{"white-space admin token", []string{"serve"}, map[string]string{"CRUMB_ADMIN_TOKEN": " "}, 2, "CRUMB_ADMIN_TOKEN has leading or trailing white space"},
		{"admin token with a newline", []string{"serve"}, map[string]string{"CRUMB_ADMIN_TOKEN": "s3cret-token\n"}, 2, "CRUMB_ADMIN_TOKEN"},
		{"short admin token", []string{"serve"}, map[string]string{"CRUMB_ADMIN_TOKEN": "a"}, 2, "CRUMB_ADMIN_TOKEN has 1 characters: want at least 16"},
		{"short metrics token", []string{"serve"}, map[string]string{"CRUMB_METRICS_TOKEN": "metrics"}, 2, "CRUMB_METRICS_TOKEN has 7 characters: want at least 16"},
		// A variable the flag refuses is one problem, not also the zero
		// value it would have left ("shutdown timeout must be positive").
		{"bad duration env", []string{"serve"}, map[string]string{"CRUMB_SHUTDOWN_TIMEOUT": "forever"}, 2,
			`serve: CRUMB_SHUTDOWN_TIMEOUT="forever": want a duration such as 30s, 5m or 1h`},
		{"bad int env", []string{"serve"}, map[string]string{"CRUMB_RATE_BURST": "lots"}, 2, `serve: CRUMB_RATE_BURST="lots": want a whole number`},
		{"data dir not creatable", []string{"serve", "-config", exampleConfig, "-data-dir", "/proc/nope"}, nil, 2, `-data-dir (or CRUMB_DATA_DIR) "/proc/nope"`},
		{"data dir under a file", []string{"serve", "-config", exampleConfig}, map[string]string{"CRUMB_DATA_DIR": exampleConfig + "/data"}, 2, `-data-dir (or CRUMB_DATA_DIR)`},
		{"data dir not writable", []string{"serve", "-config", exampleConfig, "-data-dir", "/sys"}, nil, 2, `-data-dir (or CRUMB_DATA_DIR) "/sys"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, func(k string) string { return tt.environ[k] }, strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
			if got := exitCode(err); got != tt.code {
				t.Fatalf("exit code %d (%v), want %d", got, err, tt.code)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if strings.HasPrefix(tt.want, "serve: ") && err.Error() != tt.want {
				t.Errorf("error %q, want exactly %q", err, tt.want)
			}
		})
	}
}

// TestTopLevel covers crumb without a subcommand's flags: help, version
// (also as -version and --version) and unknown names.
func TestTopLevel(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"version"}, 0, "crumb "},
		{[]string{"--version"}, 0, "crumb "},
		{[]string{"-version"}, 0, "crumb "},
		{[]string{"--help"}, 0, "Subcommands:"},
		{[]string{"frobnicate"}, 2, ""},
		{[]string{"version", "extra"}, 2, ""},
		{[]string{"--version", "extra"}, 2, ""},
		{nil, 2, "Subcommands:"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out strings.Builder
			err := run(context.Background(), tt.args, func(string) string { return "" }, strings.NewReader(""), &out, &strings.Builder{})
			if got := exitCode(err); got != tt.code {
				t.Fatalf("exit code %d (%v), want %d", got, err, tt.code)
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("stdout %q lacks %q", out.String(), tt.out)
			}
		})
	}
}

// TestServeReportsDurability checks crumb_store_durable: 1 on a Redis as
// crumb serve requires it, 0 once its appendfsync is weakened at run time.
func TestServeReportsDurability(t *testing.T) {
	rs := redistest.Start(t)
	s := startServe(t, map[string]string{"CRUMB_REDIS_URL": rs.URL(), "CRUMB_ADMIN_TOKEN": "e2e-admin-token-01"})
	durable := func() string {
		t.Helper()
		code, body := get(t, s.base+"/metrics", "e2e-admin-token-01")
		if code != 200 {
			t.Fatalf("/metrics: %d", code)
		}
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(line, "crumb_store_durable "); ok {
				return v
			}
		}
		t.Fatalf("/metrics has no crumb_store_durable")
		return ""
	}
	if v := durable(); v != "1" {
		t.Errorf("crumb_store_durable %s on appendfsync always, want 1", v)
	}
	rc := redis.NewClient(&redis.Options{Network: rs.Network(), Addr: rs.Addr()})
	defer rc.Close()
	if err := rc.ConfigSet(context.Background(), "appendfsync", "everysec").Err(); err != nil {
		t.Fatal(err)
	}
	if v := durable(); v != "0" {
		t.Errorf("crumb_store_durable %s after CONFIG SET appendfsync everysec, want 0", v)
	}
}

// TestServeJSONLog runs `crumb serve -log-format json` on a Sentinel
// deployment with passwords (the URL as the documentation gives it) and
// reads every log line: each is one JSON object with no key twice,
// durations are text, go-redis's Sentinel news is info, and the startup
// line says what runs, with no password anywhere.
func TestServeJSONLog(t *testing.T) {
	const pw, senPW = "JSONLOGmasterpw", "JSONLOGsentinelpw"
	sen := redistest.StartSentinelWith(t, redistest.SentinelOptions{Password: pw, SentinelPassword: senPW})
	redisURL := "redis-sentinel://:" + pw + "@" + sen.Addr() + "/" + redistest.MasterName + "?sentinel_password=" + senPW
	s := startServe(t, map[string]string{
		"CRUMB_REDIS_URL": redisURL, "CRUMB_LOG_FORMAT": "json", "CRUMB_ADMIN_TOKEN": "e2e-admin-token-01",
		"CRUMB_WORKERS": "0", "CRUMB_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.0.0/16",
	}, "-shutdown-timeout", "7s")
	resp, _, err := post(t, http.DefaultClient, s.base, bannerHash(t, "exempel"), "e2e-json-log-000001", "")
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("decision: %v %v", resp, err)
	}
	s.stop(t)

	lines := jsonLines(t, s.stderr.String())
	log := s.stderr.String()
	for _, secret := range []string{pw, senPW, "e2e-admin-token-01"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log shows %q", secret)
		}
	}
	byMsg := map[string]map[string]any{}
	redisInfo := 0
	for _, l := range lines {
		byMsg[l["msg"].(string)] = l
		if l["msg"] == "redis client" && l["level"] == "INFO" && strings.HasPrefix(fmt.Sprint(l["detail"]), "sentinel: ") {
			redisInfo++
		}
	}
	if redisInfo == 0 {
		t.Errorf("no INFO line of go-redis's Sentinel client (detail \"sentinel: …\")")
	}
	cfg, err := siteconfig.Load(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	start := byMsg["listening"]
	t.Logf("listening line: %v", start)
	want := map[string]any{
		"store": "redis-sentinel", "redis_fsync": "always", "sites": float64(len(cfg.Sites)), "workers": float64(0),
		"workers_from": "CRUMB_WORKERS", "trusted_proxies": float64(2), "admin_api": "on",
		"metrics": "guarded by CRUMB_ADMIN_TOKEN", "config": exampleConfig,
		"redis_url": "redis-sentinel://:xxxxx@" + sen.Addr() + "/" + redistest.MasterName + "?sentinel_password=xxxxx",
	}
	for k, v := range want {
		if start[k] != v {
			t.Errorf("listening line: %s = %#v, want %#v", k, start[k], v)
		}
	}
	if v, _ := start["version"].(string); v == "" {
		t.Errorf("listening line has no version: %v", start)
	}
	if got := byMsg["shutting down"]["timeout"]; got != "7s" {
		t.Errorf("shutting down: timeout %#v, want \"7s\"", got)
	}
}

// jsonLines decodes a JSON log, one object per line, failing the test on
// a line that is not one flat JSON object or repeats a key.
func jsonLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i, line := range strings.Split(strings.TrimSpace(log), "\n") {
		dec := json.NewDecoder(strings.NewReader(line))
		m, err := decodeObject(dec)
		if err == nil && dec.More() {
			err = errors.New("more than one value")
		}
		if err != nil {
			t.Fatalf("log line %d: %v\n%s", i+1, err, line)
		}
		out = append(out, m)
	}
	return out
}

// decodeObject reads one JSON object whose values are not objects (slog
// writes groups as nested objects; crumb uses none), refusing a repeated
// key.
func decodeObject(dec *json.Decoder) (map[string]any, error) {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("want an object, got %v (%v)", tok, err)
	}
	m := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k := tok.(string)
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("key %q repeats", k)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, nested := v.(map[string]any); nested {
			return nil, fmt.Errorf("key %q holds an object (a group: its keys are not checked)", k)
		}
		m[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return m, nil
}

// TestServeFinalErrorJSON checks how crumb serve ends on an error: with
// -log-format json, as one JSON line at level ERROR (usage errors found
// once the logger exists too, with their exit code); flag errors before
// it exists, and everything in text format, stay plain for main to print.
func TestServeFinalErrorJSON(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name   string
		args   []string
		code   int
		want   string // in the error
		logged bool   // as JSON
	}{
		{"address in use", []string{"serve", "-log-format", "json", "-data-dir", t.TempDir(), "-config", exampleConfig, "-addr", busy.Addr().String()}, 1, "address already in use", true},
		{"bad redis url", []string{"serve", "-log-format", "json", "-config", exampleConfig, "-redis-url", "redis://:SECRETPW@127.0.0.1:badport"}, 2, "invalid port", true},
		{"bad flag", []string{"serve", "-log-format", "json", "-nope"}, 2, "flag provided but not defined", false},
		{"text format", []string{"serve", "-data-dir", t.TempDir(), "-config", exampleConfig, "-addr", busy.Addr().String()}, 1, "address already in use", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			err := run(context.Background(), tt.args, func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
			if got := exitCode(err); got != tt.code || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Fatalf("error %v, exit code %d; want %q, %d", err, got, tt.want, tt.code)
			}
			var logged *loggedError
			if errors.As(err, &logged) != tt.logged {
				t.Errorf("logged %v, want %v", !tt.logged, tt.logged)
			}
			if strings.Contains(stderr.String(), "SECRETPW") || strings.Contains(err.Error(), "SECRETPW") {
				t.Errorf("the password is shown: %v\n%s", err, stderr.String())
			}
			if !tt.logged {
				if strings.Contains(stderr.String(), `"msg":"exiting"`) {
					t.Errorf("the error was logged:\n%s", stderr.String())
				}
				return
			}
			lines := jsonLines(t, stderr.String())
			last := lines[len(lines)-1]
			if last["level"] != "ERROR" || last["msg"] != "exiting" || last["err"] != err.Error() || last["exit_code"] != float64(tt.code) {
				t.Errorf("last log line %v, want the error at ERROR with exit_code %d", last, tt.code)
			}
		})
	}
}

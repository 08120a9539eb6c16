package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/crumbhq/crumb/widget"
)

const exampleConfig = "../../configs/crumb.yaml"

// served is a running `crumb serve`.
type served struct {
	base   string
	cancel context.CancelFunc
	done   chan error
	stderr *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs the real program's serve subcommand on a free port and
// waits until it has written its address.
func startServe(t *testing.T, environ map[string]string, args ...string) *served {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	args = append([]string{"serve", "-addr", "127.0.0.1:0", "-addr-file", addrFile, "-config", exampleConfig}, args...)
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{cancel: cancel, done: make(chan error, 1), stderr: &syncBuffer{}}
	getenv := func(k string) string { return environ[k] }
	go func() { s.done <- run(ctx, args, getenv, strings.NewReader(""), io.Discard, s.stderr) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil && strings.HasSuffix(string(b), "\n") {
			s.base = "http://" + strings.TrimSpace(string(b))
			break
		}
		select {
		case err := <-s.done:
			t.Fatalf("serve exited at start: %v\n%s", err, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start within 15s\n%s", s.stderr)
		}
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop cancels the server's context and waits for run to return.
func (s *served) stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve returned %v\n%s", err, s.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop within 30s\n%s", s.stderr)
	}
}

// bannerHash is the banner hash of a site of the example configuration.
func bannerHash(t *testing.T, site string) string {
	t.Helper()
	cfg, err := siteconfig.Load(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := cfg.Site(site)
	h, _, err := consentapi.BannerHash(s.Banner())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// builtWidget is the widget bundle crumb serve serves: the same embedded
// sources, built the same way.
var builtWidget = sync.OnceValues(widget.Build)

// widgetVersion is the served bundle's hash, which decisions must name.
func widgetVersion(t *testing.T) string {
	t.Helper()
	b, err := builtWidget()
	if err != nil {
		t.Fatal(err)
	}
	return b.Hash
}

// post sends a decision for the exempel site.
func post(t *testing.T, client *http.Client, base, banner, eventID, consentID string) (*http.Response, map[string]any, error) {
	body, _ := json.Marshal(map[string]any{
		"event_id": eventID, "consent_id": consentID, "action": "custom", "revision": 1, "banner": banner,
		"language": "sv", "widget_version": widgetVersion(t), "categories": map[string]bool{"necessary": true, "analytics": true, "marketing": false},
	})
	req, _ := http.NewRequest("POST", base+"/v1/sites/exempel/consents", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://www.exempel.se")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp, out, nil
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

package main

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/crumbhq/crumb/consentapi/redisstore"
)

// composeVars are the variables the compose files in configs/ are run
// with, as their comments say to set them.
var composeVars = map[string]string{
	"CRUMB_REDIS_PASSWORD": "5f0c2a6e9d8b7a1c3e4f5a6b7c8d9e0f5f0c2a6e9d8b7a1c3e4f5a6b7c8d9e0f",
	"CRUMB_ADMIN_TOKEN":    "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
	"CRUMB_METRICS_TOKEN":  "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
}

// composeService is the part of a compose service the test reads, after
// interpolation: commands and entrypoints as one shell-like line.
type composeService struct {
	Image       string
	Build       any
	Command     any
	Entrypoint  any
	Environment map[string]string
	Healthcheck struct{ Test any }
}

func (s composeService) line(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, p := range v {
			parts[i] = fmt.Sprint(p)
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// run is what the container runs: entrypoint, then command.
func (s composeService) run() string {
	return strings.TrimSpace(s.line(s.Entrypoint) + " " + s.line(s.Command))
}

// interpolate does what compose does to a value: ${VAR}, ${VAR:?msg} and
// ${VAR:-default} from vars, $$ to a literal $ (left for the container's
// shell).
func interpolate(t *testing.T, file, s string) string {
	t.Helper()
	re := regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		g := re.FindStringSubmatch(m)
		v, ok := composeVars[g[1]]
		switch {
		case ok:
			return v
		case strings.HasSuffix(g[2], "-"):
			return g[3]
		case strings.HasSuffix(g[2], "?"):
			t.Errorf("%s: %s is required but not one of the variables the comments set", file, g[1])
		}
		return ""
	})
}

func loadCompose(t *testing.T, file string) map[string]composeService {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Services map[string]yaml.Node }
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	services := map[string]composeService{}
	for name, node := range doc.Services {
		// Through any (merge keys resolved), then interpolate every string.
		var raw map[string]any
		if err := node.Decode(&raw); err != nil {
			t.Fatalf("%s: service %s: %v", file, name, err)
		}
		b, err := yaml.Marshal(interpolateAll(t, file, raw))
		if err != nil {
			t.Fatal(err)
		}
		var s composeService
		if err := yaml.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s: service %s: %v", file, name, err)
		}
		services[name] = s
	}
	if len(services) == 0 {
		t.Fatalf("%s: no services", file)
	}
	return services
}

func interpolateAll(t *testing.T, file string, v any) any {
	switch v := v.(type) {
	case string:
		return interpolate(t, file, v)
	case []any:
		for i := range v {
			v[i] = interpolateAll(t, file, v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = interpolateAll(t, file, v[k])
		}
	}
	return v
}

// TestComposeConfigs reads the compose files and Redis configurations in
// configs/ (no Docker engine runs here): every Redis, Sentinel and Cluster
// node asks for CRUMB_REDIS_PASSWORD, and replicas sync with it; crumb gets
// it in its Redis URL, in a form crumb accepts; the scan worker, which
// renders untrusted pages, gets no admin token.
func TestComposeConfigs(t *testing.T) {
	pw := composeVars["CRUMB_REDIS_PASSWORD"]
	files := []struct {
		path       string
		replicated bool // replicas sync from a master: masterauth
		scheme     string
	}{
		{"../../configs/docker-compose.yml", false, "redis"},
		{"../../configs/redis-sentinel/docker-compose.yml", true, "redis-sentinel"},
		{"../../configs/redis-cluster/docker-compose.yml", true, "redis-cluster"},
	}
	for _, f := range files {
		t.Run(strings.TrimPrefix(f.path, "../../"), func(t *testing.T) {
			var redisNodes, sentinels, crumbs, workers int
			for name, s := range loadCompose(t, f.path) {
				run := s.run()
				switch {
				case strings.Contains(run, "redis-server"):
					redisNodes++
					wants := []string{`--requirepass "$REDIS_PASSWORD"`}
					if f.replicated {
						wants = append(wants, `--masterauth "$REDIS_PASSWORD"`)
					}
					for _, want := range wants {
						if !strings.Contains(run, want) {
							t.Errorf("%s runs %q: no %s", name, run, want)
						}
					}
					if s.Environment["REDIS_PASSWORD"] != pw {
						t.Errorf("%s: REDIS_PASSWORD is not CRUMB_REDIS_PASSWORD", name)
					}
					if hc := s.line(s.Healthcheck.Test); !strings.Contains(hc, `REDISCLI_AUTH="$REDIS_PASSWORD"`) {
						t.Errorf("%s: health check %q does not authenticate", name, hc)
					}
				case strings.Contains(run, "redis-sentinel"):
					sentinels++
					for _, want := range []string{"sentinel auth-pass crumb %s", "requirepass %s", `"$REDIS_PASSWORD" "$REDIS_PASSWORD" >> /data/sentinel.conf`} {
						if !strings.Contains(run, want) {
							t.Errorf("sentinel %s runs %q: no %s", name, run, want)
						}
					}
					if s.Environment["REDIS_PASSWORD"] != pw {
						t.Errorf("%s: REDIS_PASSWORD is not CRUMB_REDIS_PASSWORD", name)
					}
				case strings.Contains(run, "redis-cli"):
					if s.Environment["REDISCLI_AUTH"] != pw {
						t.Errorf("%s runs redis-cli without REDISCLI_AUTH", name)
					}
				case s.Build != nil:
					crumbs++
					checkCrumbRedisURL(t, name, s.Environment["CRUMB_REDIS_URL"], f.scheme, pw)
					cmd, _ := s.Command.([]any)
					if len(cmd) == 0 {
						t.Fatalf("%s: no command", name)
					}
					switch cmd[0] {
					case "worker":
						workers++
						if _, ok := s.Environment["CRUMB_ADMIN_TOKEN"]; ok {
							t.Errorf("worker %s gets CRUMB_ADMIN_TOKEN; it renders untrusted pages and needs none", name)
						}
						if slices.Contains(cmd, "-metrics-addr") && s.Environment["CRUMB_METRICS_TOKEN"] == "" {
							t.Errorf("worker %s serves /metrics without CRUMB_METRICS_TOKEN", name)
						}
					case "serve":
						for _, v := range []string{"CRUMB_ADMIN_TOKEN", "CRUMB_TRUSTED_PROXIES"} {
							if s.Environment[v] == "" {
								t.Errorf("%s: no %s", name, v)
							}
						}
					}
				}
			}
			if redisNodes == 0 || crumbs < 2 || workers != 1 || (f.scheme == "redis-sentinel") != (sentinels > 0) {
				t.Errorf("%d redis nodes, %d sentinels, %d crumb services, %d workers: not the deployment the file describes", redisNodes, sentinels, crumbs, workers)
			}
		})
	}
	// The configuration files leave no node open: protected mode stays on
	// (it refuses other hosts only while no password is set).
	for _, file := range []string{"../../configs/redis-sentinel/redis.conf", "../../configs/redis-sentinel/sentinel.conf", "../../configs/redis-cluster/redis-node.conf"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "protected-mode" && f[1] != "yes" {
				t.Errorf("%s: %s", file, line)
			}
		}
	}
}

// checkCrumbRedisURL checks that crumb's Redis URL carries the password
// (for Sentinel, also as the sentinels' own) and that crumb accepts it.
func checkCrumbRedisURL(t *testing.T, service, raw, scheme, pw string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Errorf("%s: CRUMB_REDIS_URL: %v", service, err)
		return
	}
	if got, _ := u.User.Password(); u.Scheme != scheme || got != pw {
		t.Errorf("%s: CRUMB_REDIS_URL %s: want %s:// with CRUMB_REDIS_PASSWORD as the password", service, redisstore.Redacted(raw), scheme)
	}
	if scheme == "redis-sentinel" && u.Query().Get("sentinel_password") != pw {
		t.Errorf("%s: CRUMB_REDIS_URL %s: no sentinel_password", service, redisstore.Redacted(raw))
	}
	c, err := redisstore.Dial(raw)
	if err != nil {
		t.Errorf("%s: crumb refuses CRUMB_REDIS_URL: %v", service, err)
		return
	}
	c.Close()
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// importRule forbids a set of packages from importing (directly or
// transitively, non-test) any package matching one of bad, each with its
// reason. Patterns ending in "/..." match the package and everything below.
type importRule struct {
	pkgs   []string
	bad    map[string]string
	stdlib bool // only the standard library and module packages in allow
	allow  []string
}

const mod = "github.com/crumbhq/crumb"

var importRules = []importRule{
	{
		pkgs:   []string{mod + "/scanner", mod + "/scanner/classify", mod + "/scanner/declaration", mod + "/scanner/scandiff"},
		stdlib: true,
		// The public suffix list (a data table from the Go project) tells a
		// site's own domain from a third party's.
		allow: []string{mod + "/scanner/...", "golang.org/x/net/publicsuffix"},
		bad:   map[string]string{},
	},
	{
		pkgs: []string{mod + "/consentapi"},
		bad: map[string]string{
			mod + "/consentapi/redisstore":  "the API sees the store only through its interface; cmd/crumb picks the implementation",
			mod + "/consentapi/localstore":  "the API sees the store only through its interface; cmd/crumb picks the implementation",
			mod + "/scanner/crawl":          "the API never drives a browser; scans run in workers",
			"github.com/chromedp/...":       "the API never drives a browser; scans run in workers",
			"github.com/redis/go-redis/...": "Redis belongs to redisstore and jobqueue",
			"go.etcd.io/bbolt":              "bbolt belongs to localstore",
			mod + "/consentapi/storetest":   "test-only package",
			mod + "/scanner/browsertest":    "test-only package",
			mod + "/consentapi/redistest":   "test-only package",
		},
	},
	{
		pkgs: []string{mod + "/consentapi/store"},
		bad: map[string]string{
			"github.com/labstack/echo/...":  "the store knows nothing of HTTP",
			"github.com/redis/go-redis/...": "the store interface is backend-neutral",
			"go.etcd.io/bbolt":              "the store interface is backend-neutral",
		},
	},
	{
		pkgs: []string{mod + "/widget"},
		bad: map[string]string{
			mod + "/consentapi/...":        "the widget is served by the API, not the other way round",
			"github.com/labstack/echo/...": "the widget has no HTTP framework",
		},
	},
	{
		pkgs: []string{mod + "/consentapi/schedule", mod + "/consentapi/jobqueue", mod + "/consentapi/webhook"},
		bad: map[string]string{
			"github.com/chromedp/...":       "the scan itself is an injected func; only workers wired in cmd/crumb drive Chromium",
			mod + "/scanner/crawl":          "the scan itself is an injected func; only workers wired in cmd/crumb drive Chromium",
			"github.com/redis/go-redis/...": "Redis belongs to redisstore and redisqueue",
			"go.etcd.io/bbolt":              "bbolt belongs to localstore and localqueue",
			"github.com/labstack/echo/...":  "scheduling knows nothing of HTTP routing",
		},
	},
	{
		pkgs: []string{mod + "/scanner/crawl"},
		bad: map[string]string{
			mod + "/consentapi/...":         "the scanner stands alone: crumb scan works without the service",
			"github.com/labstack/echo/...":  "the scanner stands alone",
			"github.com/redis/go-redis/...": "the scanner stands alone",
		},
	},
}

func match(pattern, pkg string) bool {
	if p, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == p || strings.HasPrefix(pkg, p+"/")
	}
	return pkg == pattern
}

type listedPackage struct {
	ImportPath string
	Deps       []string
	Standard   bool
}

// TestImportRules keeps the package layout honest: each rule names a
// dependency a package must never grow, and why.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", mod+"/...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	std := map[string]bool{}
	stdOut, err := exec.Command("go", "list", "std").Output()
	if err != nil {
		t.Fatalf("go list std: %v", err)
	}
	for _, p := range strings.Fields(string(stdOut)) {
		std[p] = true
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	checked := 0
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		for _, r := range importRules {
			if !matchAny(r.pkgs, p.ImportPath) {
				continue
			}
			checked++
			for _, dep := range p.Deps {
				for pattern, why := range r.bad {
					if match(pattern, dep) {
						t.Errorf("%s imports %s: %s", p.ImportPath, dep, why)
					}
				}
				if r.stdlib && !std[dep] && !matchAny(r.allow, dep) && !strings.HasPrefix(dep, "vendor/") && !strings.HasPrefix(dep, "internal/") {
					t.Errorf("%s imports %s: it may use only the standard library and %v", p.ImportPath, dep, r.allow)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no package matched any rule: the rules are out of date")
	}
}

func matchAny(patterns []string, pkg string) bool {
	for _, p := range patterns {
		if match(p, pkg) {
			return true
		}
	}
	return false
}

package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/browsertest"
	"github.com/crumbhq/crumb/scanner/crawl/crawltest"
)

// runScanCmd runs "crumb scan args..." and returns stdout, stderr and the
// exit code.
func runScanCmd(t *testing.T, environ map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr strings.Builder
	err := run(context.Background(), append([]string{"scan"}, args...), func(k string) string { return environ[k] },
		strings.NewReader(""), &stdout, &stderr)
	if err != nil {
		stderr.WriteString(err.Error())
	}
	return stdout.String(), stderr.String(), exitCode(err)
}

func TestScanUsage(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.kb")
	if err := os.WriteFile(bad, []byte("this is not a knowledge file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no URL", nil, "no URL given"},
		{"not http", []string{"ftp://www.exempel.se/"}, "want an http or https URL"},
		{"no scheme", []string{"www.exempel.se"}, "want an http or https URL"},
		{"two URLs", []string{"https://a.se/", "https://b.se/"}, "one URL"},
		{"format", []string{"-format", "xml", "https://a.se/"}, "-format \"xml\""},
		{"format after URL", []string{"https://a.se/", "-format", "xml"}, "-format \"xml\""},
		{"lang", []string{"-lang", "de", "https://a.se/"}, "-lang \"de\""},
		{"consent", []string{"-consent", "some", "https://a.se/"}, "unknown consent mode \"some\""},
		{"grant necessary", []string{"-consent", "none,grant:necessary", "https://a.se/"}, "consent mode \"grant:necessary\""},
		{"grant no category", []string{"-consent", "none,grant:", "https://a.se/"}, "consent mode \"grant:\": \"\" is not a category id"},
		{"grant twice", []string{"-consent", "grant:analytics,grant:analytics", "https://a.se/"}, "a consent mode is listed twice"},
		{"negative pages", []string{"-max-pages", "-1", "https://a.se/"}, "-max-pages -1: want at least 1"},
		{"negative heap", []string{"-max-heap-mb", "-5", "https://a.se/"}, "-max-heap-mb -5: want at least 64"},
		{"tiny heap", []string{"-max-heap-mb", "1", "https://a.se/"}, "-max-heap-mb 1: want at least 64"},
		{"heap just too small", []string{"-max-heap-mb", "63", "https://a.se/"}, "-max-heap-mb 63: want at least 64"},
		{"consent with report", []string{"-report", "r.json", "-consent", "accept-all"}, "-consent and -report do not go together"},
		{"consent after report", []string{"-consent", "none,grant:analytics", "-report", "r.json", "-format", "md"}, "-consent and -report do not go together"},
		{"crawl flags with report", []string{"-report", "r.json", "-max-pages", "3", "-proxy", "http://p.example:3128"}, "-max-pages, -proxy and -report do not go together"},
		{"too many tabs", []string{"-concurrency", "17", "https://a.se/"}, "-concurrency 17: want at most 16"},
		{"zero timeout", []string{"-timeout", "0", "https://a.se/"}, "-timeout 0s: want a positive duration"},
		{"negative timeout", []string{"-timeout", "-1m", "https://a.se/"}, "-timeout -1m0s: want a positive duration"},
		{"bad duration", []string{"-timeout", "5", "https://a.se/"}, "invalid value \"5\" for flag -timeout"},
		{"negative dwell", []string{"-dwell", "-1s", "https://a.se/"}, "-dwell -1s: want 0 or more"},
		{"no consent mode", []string{"-consent", ",", "https://a.se/"}, "-consent \",\": no consent mode given"},
		{"proxy garbage", []string{"-proxy", "::bad", "https://a.se/"}, "-proxy \"::bad\": not a URL"},
		{"proxy no scheme", []string{"-proxy", "proxy.example:3128", "https://a.se/"}, "-proxy \"proxy.example:3128\": want a URL with scheme http, https, socks4, socks5"},
		{"proxy scheme", []string{"-proxy", "ftp://proxy.example", "https://a.se/"}, "-proxy \"ftp://proxy.example\": want a URL with scheme"},
		{"proxy no host", []string{"-proxy", "http://:3128", "https://a.se/"}, "-proxy \"http://:3128\": no host"},
		{"proxy credentials", []string{"-proxy", "http://u:p@proxy.example:3128", "https://a.se/"}, "no user name or password"},
		{"proxy path", []string{"-proxy", "http://proxy.example:3128/x", "https://a.se/"}, "no path or query"},
		{"proxy port", []string{"-proxy", "socks5://proxy.example:99999", "https://a.se/"}, "port \"99999\""},
		{"output dir missing", []string{"-o", "/nonexistent/dir/x.json", "https://a.se/"}, "-o \"/nonexistent/dir/x.json\": directory /nonexistent/dir: no such file or directory"},
		{"output is a dir", []string{"-o", t.TempDir(), "https://a.se/"}, "is a directory"},
		{"output dir missing, report", []string{"-report", "r.json", "-o", "/nonexistent/dir/x.json"}, "-o \"/nonexistent/dir/x.json\""},
		{"chromium missing", []string{"-chromium", "/nonexistent/chromium", "https://a.se/"}, "-chromium (or CRUMB_CHROMIUM) \"/nonexistent/chromium\""},
		{"zero depth", []string{"-max-depth", "0", "https://a.se/"}, "-max-depth 0: want at least 1; -max-pages 1 scans the start page only"},
		{"zero concurrency", []string{"-concurrency", "0", "https://a.se/"}, "-concurrency 0: want at least 1"},
		{"short page timeout", []string{"-page-timeout", "1s", "https://a.se/"}, "-page-timeout 1s: want at least 2s"},
		{"chromium flag", []string{"-chromium-flag", "proxy-server=x", "https://a.se/"}, "must start with --"},
		{"cookie db", []string{"-cookie-db", bad, "https://a.se/"}, "-cookie-db"},
		{"unknown flag", []string{"-pages", "3", "https://a.se/"}, "flag provided but not defined"},
		{"declaration unclassified", []string{"-no-classify", "-format", "declaration-md", "https://a.se/"}, "needs classified items"},
		{"URL and report", []string{"-report", "r.json", "https://a.se/"}, "not both"},
		{"missing report", []string{"-report", filepath.Join(t.TempDir(), "none.json")}, "-report"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runScanCmd(t, nil, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
			if strings.HasPrefix(tc.want, "flag provided") || strings.HasPrefix(tc.want, "invalid value") {
				if n := strings.Count(stderr, tc.want); n != 1 {
					t.Errorf("stderr holds %q %d times, want once", tc.want, n)
				}
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

// fixtureEnv serves site under hosts for the test and returns the
// environment in which crumb scan's Chromium reaches it.
func fixtureEnv(t *testing.T, site http.Handler, hosts ...string) map[string]string {
	t.Helper()
	srv, err := crawltest.Start(site, hosts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	chromium, err := browsertest.ExecPath()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"CRUMB_CHROMIUM": chromium, "CRUMB_CHROMIUM_FLAGS": strings.Join(srv.Flags, " ")}
}

// TestScanCommand scans the Exempel fixture through the real command in
// both consent modes, then renders the saved JSON report in every other
// format.
func TestScanCommand(t *testing.T) {
	env := fixtureEnv(t, &crawltest.Exempel{}, crawltest.ExempelHosts...)
	dir := t.TempDir()
	saved := filepath.Join(dir, "report.json")
	_, stderr, code := runScanCmd(t, env, "-format", "json", "-o", saved, "-consent", "none,accept-all",
		"-max-pages", "3", "-page-timeout", "10s", "-dwell", "200ms", "https://www.exempel.se/")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if n := strings.Count(stderr, "https://www.exempel.se/"); n < 6 {
		t.Errorf("progress shows %d pages, want 6 (3 per mode); stderr:\n%s", n, stderr)
	}
	b, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	var rep scanner.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.SchemaVersion != scanner.SchemaVersion || len(rep.Pages) != 6 || len(rep.Modes) != 2 {
		t.Fatalf("schema %d, %d pages, modes %v", rep.SchemaVersion, len(rep.Pages), rep.Modes)
	}
	for _, it := range rep.Items {
		if it.Classification == nil || it.Classification.Category == scanner.Unclassified {
			t.Errorf("%s %s not classified: %+v", it.Kind, it.Name, it.Classification)
		}
	}

	render := func(t *testing.T, args ...string) string {
		t.Helper()
		stdout, stderr, code := runScanCmd(t, nil, append([]string{"-report", saved}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		return stdout
	}
	t.Run("table", func(t *testing.T) {
		out := render(t)
		lines := strings.Split(out, "\n")
		if !strings.HasPrefix(lines[0], "Scan of https://www.exempel.se/ (exempel.se), consent none and accept-all: 6 pages") {
			t.Errorf("summary %q", lines[0])
		}
		// Pre-consent findings come first: the first item is one.
		if !strings.HasPrefix(lines[2], "PROBLEM") || !strings.HasPrefix(lines[3], "pre-consent") {
			t.Errorf("table does not start with a pre-consent finding:\n%s", out)
		}
		for _, want := range []string{"_ga ", "Google Analytics", "IDE ", "after consent only", "Trackers contacted before consent (pre-consent findings):", "analytics tracker of Google", "Third-party hosts:", "Cookies the browser refused:", "test_cookie"} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("csv", func(t *testing.T) {
		rows, err := csv.NewReader(strings.NewReader(render(t, "-format", "csv"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(rep.Items)+1 || rows[0][0] != "problem" || rows[0][19] != "category" {
			t.Fatalf("%d rows, header %v", len(rows), rows[0])
		}
		for _, r := range rows[1:] {
			if r[19] == "" || r[23] == "" {
				t.Errorf("row without category or reason: %v", r)
			}
		}
	})
	t.Run("md", func(t *testing.T) {
		out := render(t, "-format", "md")
		if !strings.HasPrefix(out, "# Cookie scan of https://www.exempel.se/") || !strings.Contains(out, "| PROBLEM | TYPE | NAME |") {
			t.Errorf("markdown:\n%s", out)
		}
	})
	t.Run("declaration", func(t *testing.T) {
		for _, tc := range []struct{ format, lang, want string }{
			{"declaration-md", "sv", "Google Analytics"},
			{"declaration-html", "en", "<table"},
		} {
			if out := render(t, "-format", tc.format, "-lang", tc.lang); !strings.Contains(out, tc.want) {
				t.Errorf("%s %s lacks %q:\n%s", tc.format, tc.lang, tc.want, out)
			}
		}
	})
}

// TestScanStartPageFails: a site that does not answer is a failed scan
// (exit 1), and the report still says what happened.
func TestScanStartPageFails(t *testing.T) {
	chromium, err := browsertest.ExecPath()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runScanCmd(t, map[string]string{"CRUMB_CHROMIUM": chromium},
		"-format", "json", "-q", "-page-timeout", "5s", "-chromium-flag", "--host-resolver-rules=MAP * 127.0.0.1:9, EXCLUDE localhost",
		"https://www.exempel.se/")
	if code != 1 || !strings.Contains(stderr, "start page could not be loaded") {
		t.Fatalf("exit %d, stderr %q; want 1 and the start page error", code, stderr)
	}
	var rep scanner.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Pages) != 1 || !strings.Contains(rep.Pages[0].Error, "ERR_CONNECTION_REFUSED") {
		t.Fatalf("report %+v (%v)", rep.Pages, err)
	}
}

// TestItemRow: the human formats say which category's consent released an
// item and which category a weak rule only proposes.
func TestItemRow(t *testing.T) {
	tests := []struct {
		name              string
		it                scanner.Item
		consent, category string
	}{
		{"before consent", scanner.Item{Name: "a", SeenIn: []string{scanner.ModeNone}, Classification: &scanner.Classification{Category: scanner.Analytics}}, "before consent", "analytics"},
		{"after consent", scanner.Item{Name: "b", SeenIn: []string{scanner.ModeAcceptAll}, Classification: &scanner.Classification{Category: scanner.Marketing}}, "after consent only", "marketing"},
		{"released", scanner.Item{Name: "c", SeenIn: []string{"grant:analytics"}, ReleasedBy: scanner.Analytics, Classification: &scanner.Classification{Category: scanner.Analytics}}, "after consent to analytics", "analytics"},
		{"proposed", scanner.Item{Name: "d", SeenIn: []string{scanner.ModeNone}, Classification: &scanner.Classification{Category: scanner.Unclassified, Proposed: scanner.Necessary}}, "before consent", "unclassified (necessary proposed)"},
		{"name guess", scanner.Item{Name: "chat_visitor", SeenIn: []string{scanner.ModeAcceptAll}, Classification: &scanner.Classification{Category: scanner.Unclassified, Proposed: scanner.Analytics, Source: scanner.SourceHeuristic}}, "after consent only", "unclassified (analytics proposed)"},
		// A report saved by an older crumb, whose name heuristics decided.
		{"older name guess", scanner.Item{Name: "chat_visitor", SeenIn: []string{scanner.ModeAcceptAll}, Classification: &scanner.Classification{Category: scanner.Analytics, Confidence: scanner.ConfidenceLow, Source: scanner.SourceHeuristic}}, "after consent only", "unclassified (analytics proposed)"},
		// A scan in accept-all alone never saw the site without consent.
		{"accept-all only", scanner.Item{Name: "e", SeenIn: []string{scanner.ModeAcceptAll}, Classification: &scanner.Classification{Category: scanner.Marketing}}, "not checked (no visit without consent)", "marketing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			modes := []string{scanner.ModeNone, scanner.ModeAcceptAll, "grant:analytics"}
			if tt.name == "accept-all only" {
				modes = []string{scanner.ModeAcceptAll}
			}
			row := itemRow(tt.it, modes)
			if row[6] != tt.consent || row[7] != tt.category {
				t.Errorf("consent %q, category %q; want %q, %q", row[6], row[7], tt.consent, tt.category)
			}
		})
	}
}

// brokenSite is www.trasig.se: a start page linking to a page that exists
// and to one that does not (404).
type brokenSite struct{}

func (brokenSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	title := map[string]string{"/": "Start", "/om": "Om oss"}[r.URL.Path]
	if title == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html><head><title>%s</title></head><body><h1>%s</h1><a href="/om">Om oss</a> <a href="/saknas">Gammal länk</a></body></html>`, title, title)
}

// TestScanBrokenLink: a linked page that answers 404 is recorded with its
// status and counted as a page with errors. The report replaces the file
// -o names only once complete, keeping its permissions, and a scan that
// fails leaves the previous file as it was.
func TestScanBrokenLink(t *testing.T) {
	env := fixtureEnv(t, brokenSite{}, "www.trasig.se")
	dir := t.TempDir()
	saved := filepath.Join(dir, "report.json")
	if err := os.WriteFile(saved, []byte("the previous report\n"), 0o640); err != nil {
		t.Fatal(err)
	}

	// A scan that fails (the browser does not run) leaves the old report.
	_, stderr, code := runScanCmd(t, map[string]string{"CRUMB_CHROMIUM": "/bin/false"}, "-q", "-o", saved, "https://www.trasig.se/")
	if code != 1 {
		t.Fatalf("exit %d with /bin/false as the browser, want 1; stderr:\n%s", code, stderr)
	}
	if b, _ := os.ReadFile(saved); string(b) != "the previous report\n" {
		t.Fatalf("a failed scan changed the -o file to %q", b)
	}

	_, stderr, code = runScanCmd(t, env, "-format", "json", "-o", saved, "-q",
		"-max-pages", "3", "-page-timeout", "10s", "-dwell", "0", "https://www.trasig.se/")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if fi, err := os.Stat(saved); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("report file %v (%v), want mode 0640 kept", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left in the -o directory: %v", entries)
	}
	b, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	var rep scanner.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%v:\n%s", err, b)
	}
	status := map[string]int{}
	for _, p := range rep.Pages {
		status[p.URL] = p.Status
		if p.Error != "" {
			t.Errorf("%s: error %q, want none", p.URL, p.Error)
		}
	}
	want := map[string]int{"https://www.trasig.se/": 200, "https://www.trasig.se/om": 200, "https://www.trasig.se/saknas": 404}
	if fmt.Sprint(status) != fmt.Sprint(want) {
		t.Fatalf("pages and statuses %v, want %v", status, want)
	}
	if !strings.Contains(string(b), `"status": 404`) {
		t.Errorf("the JSON report lacks the 404 status:\n%s", b)
	}

	for _, format := range []string{"table", "md"} {
		stdout, stderr, code := runScanCmd(t, nil, "-report", saved, "-format", format)
		if code != 0 {
			t.Fatalf("%s: exit %d; stderr:\n%s", format, code, stderr)
		}
		for _, want := range []string{"consent none: 3 pages (1 with errors)", "https://www.trasig.se/saknas (none): HTTP 404"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s lacks %q:\n%s", format, want, stdout)
			}
		}
		if strings.Contains(stdout, "https://www.trasig.se/om (none)") {
			t.Errorf("%s lists /om, which loaded, as a page with errors:\n%s", format, stdout)
		}
	}
}

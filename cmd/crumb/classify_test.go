package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crumbhq/crumb/scanner"
)

// runClassifyCmd runs `crumb classify args...` with stdin and returns
// stdout, stderr and the exit code.
func runClassifyCmd(t *testing.T, environ map[string]string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr strings.Builder
	err := run(context.Background(), append([]string{"classify"}, args...), func(k string) string { return environ[k] },
		strings.NewReader(stdin), &stdout, &stderr)
	if err != nil {
		stderr.WriteString(err.Error())
	}
	return stdout.String(), stderr.String(), exitCode(err)
}

type classifyLine struct {
	Line   int    `json:"line"`
	Name   string `json:"name"`
	Domain string `json:"domain"`
	scanner.Classification
	Lifetime      string `json:"typical_lifetime"`
	Documentation string `json:"documentation"`
}

func decodeVerdicts(t *testing.T, out string) []classifyLine {
	t.Helper()
	var vs []classifyLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var v classifyLine
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("output line %q is not JSON: %v", sc.Text(), err)
		}
		vs = append(vs, v)
	}
	return vs
}

// TestClassifyCommand reads names as plain lines, tab-separated fields and
// NDJSON, and prints a verdict per line.
func TestClassifyCommand(t *testing.T) {
	in := "# a comment\n" +
		"_ga\n" +
		"\n" +
		"IDE\t.doubleclick.net\n" +
		"mystery\t\thttps://static.hotjar.com/c/hotjar-1.js\n" +
		`{"name": "hjViewportId", "kind": "sessionStorage"}` + "\n" +
		`{"name": "app_csrf", "domain": "example.org", "party": "first", "session": true}` + "\r\n" +
		"no_such_thing\n"
	out, stderr, code := runClassifyCmd(t, nil, in, "-site", "example.org")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	vs := decodeVerdicts(t, out)
	want := []struct {
		line int
		name string
		cat  scanner.Category
		src  scanner.Source
	}{
		{2, "_ga", scanner.Analytics, scanner.SourceExact},
		{4, "IDE", scanner.Marketing, scanner.SourceExact},
		{5, "mystery", scanner.Analytics, scanner.SourceDomain},
		{6, "hjViewportId", scanner.Analytics, scanner.SourceExact},
		{7, "app_csrf", scanner.Unclassified, scanner.SourceHeuristic}, // necessary only proposed (R32)
		{8, "no_such_thing", scanner.Unclassified, scanner.SourceNone},
	}
	if len(vs) != len(want) {
		t.Fatalf("%d verdicts, want %d:\n%s", len(vs), len(want), out)
	}
	for i, w := range want {
		v := vs[i]
		if v.Line != w.line || v.Name != w.name || v.Category != w.cat || v.Source != w.src || v.Reason == "" {
			t.Errorf("verdict %d: %+v, want line %d %s %s/%s", i, v, w.line, w.name, w.cat, w.src)
		}
	}
	if vs[0].Purpose["sv"] == "" || vs[0].Purpose["en"] == "" || vs[0].Provider != "Google Analytics" || vs[0].Lifetime != "2y" || !strings.HasPrefix(vs[0].Documentation, "https://") {
		t.Errorf("_ga verdict lacks provider or purposes: %+v", vs[0])
	}
	if vs[4].Proposed != scanner.Necessary || !strings.Contains(vs[4].Reason, "WP194") {
		t.Errorf("app_csrf: want necessary proposed with its WP194 exemption in the reason: %+v", vs[4])
	}
}

// TestClassifyCommandBadInput: a bad line stops with exit code 2 and an
// error naming the line.
func TestClassifyCommandBadInput(t *testing.T) {
	tests := []struct {
		name, in, want string
		printed        int
	}{
		{"name=value", "_ga\n_gid=GA1.2.3\n", "stdin line 2: cookie name \"_gid=GA1.2.3\"", 1},
		{"too many fields", "a\tb\tc\td\n", "stdin line 1: 4 tab-separated fields", 0},
		{"bad json", "_ga\n{\"name\": \n", "stdin line 2: bad JSON object", 1},
		{"unknown json field", `{"name": "_ga", "value": "x"}` + "\n", `stdin line 1: bad JSON object: json: unknown field "value"`, 0},
		{"empty json name", `{"domain": "x.org"}` + "\n", "stdin line 1: empty name", 0},
		{"bad kind", `{"name": "a", "kind": "flash"}` + "\n", `stdin line 1: kind "flash"`, 0},
		{"bad party", `{"name": "a", "party": "second"}` + "\n", `stdin line 1: party "second"`, 0},
		{"bad setter", "a\t\tjavascript:alert(1)\n", `stdin line 1: setter "javascript:alert(1)" is not an http(s) URL`, 0},
		{"bad domain", "a\tex ample.org\n", `stdin line 1: domain "ex ample.org"`, 0},
		{"control character", "a\x01b\n", "stdin line 1: name \"a\\x01b\" holds a control character", 0},
		{"line too long", strings.Repeat("a", 2<<20) + "\n", "stdin line 1: longer than", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := runClassifyCmd(t, nil, tt.in)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.want)
			}
			if got := len(decodeVerdicts(t, out)); got != tt.printed {
				t.Errorf("%d verdicts printed before the error, want %d", got, tt.printed)
			}
		})
	}
}

// TestClassifyCommandCookieDB loads an Open Cookie Database CSV with
// -cookie-db and through CRUMB_COOKIE_DB; a bad file is a usage error.
func TestClassifyCommandCookieDB(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "ocd.csv")
	body := "ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,Data Controller,User Privacy & GDPR Rights Portals,Wildcard match\n" +
		"t1,Tiny Stats,Analytics,tiny_,,Counts visits,1 year,Tiny,https://tiny.example/privacy,1\n"
	if err := os.WriteFile(csv, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		environ map[string]string
		args    []string
	}{
		{"flag", nil, []string{"-cookie-db", csv}},
		{"env", map[string]string{"CRUMB_COOKIE_DB": csv}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := runClassifyCmd(t, tc.environ, "tiny_abc\n", tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			vs := decodeVerdicts(t, out)
			if len(vs) != 1 || vs[0].Category != scanner.Analytics || vs[0].Provider != "Tiny Stats (Tiny)" {
				t.Errorf("verdicts %+v", vs)
			}
		})
	}
	bad := filepath.Join(dir, "bad.kb")
	os.WriteFile(bad, []byte("nonsense line\n"), 0o644)
	_, stderr, code := runClassifyCmd(t, nil, "", "-cookie-db", bad)
	if code != 2 || !strings.Contains(stderr, "bad.kb:1") {
		t.Errorf("bad db: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runClassifyCmd(t, nil, "", "-nope")
	if code != 2 || !strings.Contains(stderr, "-cookie-db FILE") {
		t.Errorf("unknown flag: exit %d, stderr %q (want the usage text)", code, stderr)
	}
	_, stderr, code = runClassifyCmd(t, nil, "", "-h")
	if code != 0 || !strings.Contains(stderr, "CRUMB_COOKIE_DB") {
		t.Errorf("-h: exit %d, stderr %q", code, stderr)
	}
}

// TestClassifyCommandBadFlag: a bad flag or flag value is reported once
// (crumb prints the returned error; the flag package prints nothing of its
// own), after the usage, with exit code 2.
func TestClassifyCommandBadFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-bogus"}, "flag provided but not defined: -bogus"},
		{"missing value", []string{"-site"}, "flag needs an argument: -site"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := runClassifyCmd(t, nil, "_ga\n", tc.args...)
			if code != 2 || out != "" {
				t.Fatalf("exit %d, stdout %q; want exit 2 and nothing", code, out)
			}
			if n := strings.Count(stderr, tc.want); n != 1 {
				t.Errorf("stderr holds %q %d times, want once:\n%s", tc.want, n, stderr)
			}
			if !strings.Contains(stderr, "usage: crumb classify") {
				t.Errorf("stderr lacks the usage:\n%s", stderr)
			}
		})
	}
}

// TestClassifyCommandSite: -site (or CRUMB_SITE) must be a domain name; a
// URL or a name with a space would judge every item third party, so it is
// refused with exit code 2 before anything is read.
func TestClassifyCommandSite(t *testing.T) {
	for _, tc := range []struct {
		name, site, env string
		want            string // "" for success
	}{
		{"domain", "example.org", "", ""},
		{"leading dot, upper case", ".Example.ORG", "", ""},
		{"international", "räksmörgås.se", "", ""},
		{"URL with a space", "http://bad site", "", `-site (or CRUMB_SITE) "http://bad site": want a domain name such as example.org, not a URL`},
		{"URL", "https://example.org/", "", "not a URL"},
		{"space", "bad site.se", "", `' ' is not allowed in a domain name`},
		{"path", "example.org/shop", "", `'/' is not allowed`},
		{"port", "example.org:8443", "", `':' is not allowed`},
		{"empty label", "example..org", "", "want a domain name"},
		{"only a dot", ".", "", "want a domain name"},
		{"from the environment", "", "http://bad site", `-site (or CRUMB_SITE) "http://bad site"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			if tc.site != "" {
				args = []string{"-site", tc.site}
			}
			out, stderr, code := runClassifyCmd(t, map[string]string{"CRUMB_SITE": tc.env}, "_ga\t.example.org\n", args...)
			if tc.want == "" {
				if code != 0 || len(decodeVerdicts(t, out)) != 1 {
					t.Fatalf("exit %d, stdout %q, stderr %q; want one verdict", code, out, stderr)
				}
				return
			}
			if code != 2 || out != "" || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2, nothing printed and %q", code, out, stderr, tc.want)
			}
		})
	}
}

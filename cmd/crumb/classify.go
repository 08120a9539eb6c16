package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
)

const classifyUsage = `usage: crumb classify [flags] < names

Reads cookie and web-storage names from standard input and prints one JSON
verdict per input line (NDJSON): category, provider, purpose (sv, en),
confidence, the rule that matched, the reason, and for knowledge-base
matches the typical lifetime and the vendor documentation.

Each input line is either
  NAME[<TAB>DOMAIN[<TAB>SETTER-URL]]
or a JSON object
  {"name": "_ga", "domain": ".example.org", "set_by": "https://...",
   "kind": "cookie|localStorage|sessionStorage", "party": "first|third",
   "session": false}
Blank lines and lines starting with # are skipped. A bad line stops the run
with an error naming the line (exit code 2); the verdicts before it are
already printed.

Flags:
  -cookie-db FILE  more knowledge, in crumb's format or the Open Cookie
                   Database CSV; may be repeated (env CRUMB_COOKIE_DB,
                   comma-separated, used when no -cookie-db is given)
  -site DOMAIN     the site's registrable domain (e.g. example.org, not a
                   URL), so that items are judged first or third party by
                   their domain (env CRUMB_SITE)
`

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// runClassify classifies names read from stdin and writes NDJSON verdicts.
func runClassify(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	// The flag package would print a bad flag's error here before the
	// usage, and crumb prints the returned error again: keep only crumb's.
	fs.SetOutput(io.Discard)
	fs.Usage = func() { fmt.Fprint(e.stderr, classifyUsage) }
	var dbs stringList
	fs.Var(&dbs, "cookie-db", "more knowledge (crumb format or Open Cookie Database CSV); repeatable")
	site := fs.String("site", e.getenv("CRUMB_SITE"), "the site's registrable domain")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("classify: unexpected argument %q (names are read from standard input)", fs.Arg(0))
	}
	siteDomain, err := checkSiteDomain(*site)
	if err != nil {
		return usagef("classify: -site (or CRUMB_SITE) %q: %v", *site, err)
	}
	if len(dbs) == 0 && e.getenv("CRUMB_COOKIE_DB") != "" {
		for _, f := range strings.Split(e.getenv("CRUMB_COOKIE_DB"), ",") {
			if f = strings.TrimSpace(f); f != "" {
				dbs = append(dbs, f)
			}
		}
	}
	c, err := classify.New(classify.Options{ExtraDB: dbs})
	if err != nil {
		return usagef("classify: %v", err)
	}
	out := bufio.NewWriter(e.stdout)
	err = classifyStream(ctx, c, e.stdin, out, siteDomain)
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("classify: write: %w", ferr)
	}
	return err
}

// checkSiteDomain returns the -site domain lower-cased without a leading
// dot ("" when none is given), or why it is not a domain name: a URL, a
// space, a path or a port would silently make every item third party.
func checkSiteDomain(s string) (string, error) {
	d := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "."))
	switch {
	case s == "":
		return "", nil
	case strings.Contains(d, "://"):
		return "", errors.New("want a domain name such as example.org, not a URL")
	case d == "" || len(d) > 253:
		return "", errors.New("want a domain name such as example.org")
	}
	for _, label := range strings.Split(strings.TrimSuffix(d, "."), ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "", errors.New("want a domain name such as example.org")
		}
		for _, r := range label {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return "", fmt.Errorf("%q is not allowed in a domain name; want e.g. example.org", r)
			}
		}
	}
	return strings.TrimSuffix(d, "."), nil
}

// verdict is one output line: the query and its classification.
type verdict struct {
	Line   int          `json:"line"`
	Name   string       `json:"name"`
	Kind   scanner.Kind `json:"kind,omitempty"`
	Domain string       `json:"domain,omitempty"`
	SetBy  string       `json:"set_by,omitempty"`
	scanner.Classification
	// Lifetime is the typical lifetime the knowledge base records ("2y",
	// "session", "persistent"); empty when no entry matched.
	Lifetime      string `json:"typical_lifetime,omitempty"`
	Documentation string `json:"documentation,omitempty"` // the entry's source URL
}

const maxLine = 1 << 20

func classifyStream(ctx context.Context, c *classify.Classifier, in io.Reader, out io.Writer, site string) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	line := 0
	for sc.Scan() {
		line++
		if line%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff") // a byte-order mark from Windows tools
		}
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		q, err := parseClassifyLine(text)
		if err != nil {
			return usagef("classify: stdin line %d: %v", line, err)
		}
		q.SiteDomain = site
		cl, entry := c.ClassifyEntry(q)
		v := verdict{Line: line, Name: q.Name, Kind: q.Kind, Domain: q.Domain, SetBy: q.SetBy, Classification: cl}
		if entry != nil && entry.Lifetime != (classify.Lifetime{}) {
			v.Lifetime = entry.Lifetime.String()
		}
		if entry != nil {
			v.Documentation = entry.Source
		}
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("classify: write: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return usagef("classify: stdin line %d: longer than %d bytes", line+1, maxLine)
		}
		return fmt.Errorf("classify: read stdin: %w", err)
	}
	return nil
}

// classifyInput is the NDJSON form of an input line.
type classifyInput struct {
	Name    string        `json:"name"`
	Domain  string        `json:"domain"`
	SetBy   string        `json:"set_by"`
	Kind    scanner.Kind  `json:"kind"`
	Party   scanner.Party `json:"party"`
	Session bool          `json:"session"`
}

func parseClassifyLine(text string) (classify.Query, error) {
	var in classifyInput
	if strings.HasPrefix(strings.TrimSpace(text), "{") {
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return classify.Query{}, fmt.Errorf("bad JSON object: %v", err)
		}
		if dec.More() {
			return classify.Query{}, errors.New("bad JSON object: more than one value on the line")
		}
	} else {
		cols := strings.Split(text, "\t")
		if len(cols) > 3 {
			return classify.Query{}, fmt.Errorf("%d tab-separated fields, want at most 3 (name, domain, setter URL)", len(cols))
		}
		cols = append(cols, "", "")
		in = classifyInput{Name: cols[0], Domain: strings.TrimSpace(cols[1]), SetBy: strings.TrimSpace(cols[2])}
	}
	if err := in.validate(); err != nil {
		return classify.Query{}, err
	}
	return classify.Query{Name: in.Name, Kind: in.Kind, Domain: in.Domain, SetBy: in.SetBy, Party: in.Party, Session: in.Session}, nil
}

func (in classifyInput) validate() error {
	switch {
	case in.Name == "":
		return errors.New("empty name")
	case strings.IndexFunc(in.Name, unicode.IsControl) >= 0:
		return fmt.Errorf("name %q holds a control character", in.Name)
	case in.Kind != "" && in.Kind != scanner.Cookie && in.Kind != scanner.LocalStorage && in.Kind != scanner.SessionStorage && in.Kind != scanner.IndexedDB:
		return fmt.Errorf("kind %q: want cookie, localStorage, sessionStorage or indexedDB", in.Kind)
	case in.Party != "" && in.Party != scanner.FirstParty && in.Party != scanner.ThirdParty:
		return fmt.Errorf("party %q: want first or third", in.Party)
	case in.Domain != "" && strings.IndexFunc(in.Domain, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '/' }) >= 0:
		return fmt.Errorf("domain %q is not a host name", in.Domain)
	}
	if in.Kind == "" || in.Kind == scanner.Cookie {
		if i := strings.IndexAny(in.Name, "=; ,"); i >= 0 {
			return fmt.Errorf("cookie name %q holds %q: give the name only, not name=value", in.Name, in.Name[i])
		}
	}
	if in.SetBy != "" {
		u, err := url.Parse(in.SetBy)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("setter %q is not an http(s) URL", in.SetBy)
		}
	}
	return nil
}

package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
	"github.com/crumbhq/crumb/scanner/crawl"
	"github.com/crumbhq/crumb/scanner/declaration"
)

const scanUsage = `usage: crumb scan [flags] URL
       crumb scan -report FILE [flags]

Crawls the site of URL in headless Chromium as a fresh visitor and reports
every cookie, localStorage, sessionStorage and IndexedDB item it stores, who
stored it, whether it came before consent, and what it is for. Progress goes
to standard error; the report to standard output (or -o).

Exit codes: 0 scanned, 1 the scan failed (the browser did not run, the start
page never loaded, or the scan was interrupted), 2 bad usage.

Flags:
  -format F          table (default), json (scanner.Report, schema in the
                     README), csv, md, declaration-html or declaration-md
  -lang L            language of a declaration: sv (default) or en
  -controller NAME   the company running the site, named in a declaration
                     as the provider of the site's own cookies (default
                     "Webbplatsen"/"This website")
  -consent MODES     comma-separated consent modes, each a fresh visitor:
                     none (default), accept-all, and grant:CATEGORY (e.g.
                     grant:analytics) to grant that category alone, which
                     needs crumb's widget on the site or Cookiebot, OneTrust,
                     CookieScript or vanilla-cookieconsent; items seen only
                     once one category was granted are attributed to it
  -max-pages N       pages per consent mode (default 50)
  -max-depth N       link hops from the start page (default 5; -max-pages 1
                     scans the start page only)
  -timeout D         the whole scan (default 15m)
  -page-timeout D    one page, at least 2s (default 30s)
  -dwell D           time on each loaded page before collecting (default 2s;
                     0 for none)
  -concurrency N     tabs at once, at most 16 (default 2)
  -recycle-after N   restart the browser after N pages (default 40)
  -max-heap-mb N     JavaScript heap of a page, in MB (default 512, at
                     least 64)
  -chromium PATH     the browser (env CRUMB_CHROMIUM; default chromium,
                     chromium-browser, google-chrome or headless-shell on PATH)
  -chromium-flag F   extra Chromium flag, e.g. --host-resolver-rules=...;
                     repeatable (env CRUMB_CHROMIUM_FLAGS, flags separated by
                     spaces, used when no -chromium-flag is given)
  -proxy URL         send the browser's traffic through a proxy:
                     http://, https://, socks4:// or socks5:// HOST[:PORT],
                     without user name or password
  -insecure          accept any TLS certificate
  -cookie-db FILE    more cookie knowledge (crumb format or Open Cookie
                     Database CSV); repeatable (env CRUMB_COOKIE_DB,
                     comma-separated, used when no -cookie-db is given)
  -no-classify       report items without classifying them
  -o FILE            write the report to FILE (its directory must exist;
                     FILE is replaced only once the report is complete)
  -report FILE       render a report saved with -format json instead of
                     scanning (to change its format or write a declaration);
                     the flags that shape a crawl (-consent, -max-pages, ...)
                     do not go with it
  -q                 no progress on standard error
  -v                 debug log on standard error
`

// scanFormats are the values of -format.
var scanFormats = []string{"table", "json", "csv", "md", "declaration-html", "declaration-md"}

// runScan scans one site and writes its report.
func runScan(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	// The flag package would print a bad flag's error here before the
	// usage, and crumb prints the returned error again: keep only crumb's.
	fs.SetOutput(io.Discard)
	fs.Usage = func() { fmt.Fprint(e.stderr, scanUsage) }
	var o crawl.Options
	format := fs.String("format", "table", "")
	lang := fs.String("lang", "sv", "")
	controller := fs.String("controller", "", "")
	consent := fs.String("consent", scanner.ModeNone, "")
	fs.IntVar(&o.MaxPages, "max-pages", 50, "")
	fs.IntVar(&o.MaxDepth, "max-depth", 5, "")
	fs.DurationVar(&o.MaxDuration, "timeout", 15*time.Minute, "")
	fs.DurationVar(&o.PageTimeout, "page-timeout", 30*time.Second, "")
	dwell := fs.Duration("dwell", 2*time.Second, "")
	fs.IntVar(&o.Concurrency, "concurrency", 2, "")
	fs.IntVar(&o.RecycleAfter, "recycle-after", 40, "")
	fs.IntVar(&o.MaxHeapMB, "max-heap-mb", 512, "")
	fs.StringVar(&o.ChromiumPath, "chromium", e.getenv("CRUMB_CHROMIUM"), "")
	var chromiumFlags, dbs stringList
	fs.Var(&chromiumFlags, "chromium-flag", "")
	proxy := fs.String("proxy", "", "")
	fs.BoolVar(&o.IgnoreTLSErrors, "insecure", false, "")
	fs.Var(&dbs, "cookie-db", "")
	noClassify := fs.Bool("no-classify", false, "")
	out := fs.String("o", "", "")
	saved := fs.String("report", "", "")
	quiet := fs.Bool("q", false, "")
	verbose := fs.Bool("v", false, "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Flags may follow the URL too.
	if fs.NArg() > 1 {
		rest := fs.Args()
		if err := parseFlags(fs, rest[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usagef("scan: one URL, please (also got %q)", fs.Arg(0))
		}
		o.URL = rest[0]
	} else {
		o.URL = fs.Arg(0)
	}
	switch {
	case *saved != "" && o.URL != "":
		return usagef("scan: give a URL or -report, not both")
	case *saved == "" && o.URL == "":
		fs.Usage()
		return usagef("scan: no URL given")
	}
	if *saved != "" {
		// -report renders a saved scan: a flag that shapes a crawl would be
		// silently ignored.
		var crawlOnly []string
		fs.Visit(func(f *flag.Flag) {
			if slices.Contains(crawlFlags, f.Name) {
				crawlOnly = append(crawlOnly, "-"+f.Name)
			}
		})
		if len(crawlOnly) > 0 {
			return usagef("scan: %s and -report do not go together: -report renders a saved scan as it was made (its consent modes included); scan again to change them", strings.Join(crawlOnly, ", "))
		}
	}
	if !slices.Contains(scanFormats, *format) {
		return usagef("scan: -format %q: want one of %s", *format, strings.Join(scanFormats, ", "))
	}
	if !slices.Contains(declaration.Languages, *lang) {
		return usagef("scan: -lang %q: want one of %s", *lang, strings.Join(declaration.Languages, ", "))
	}
	o.Modes = splitList(*consent)
	if len(o.Modes) == 0 {
		return usagef("scan: -consent %q: no consent mode given (want none, accept-all or grant:CATEGORY)", *consent)
	}
	if len(chromiumFlags) == 0 {
		chromiumFlags = splitFlags(e.getenv("CRUMB_CHROMIUM_FLAGS"))
	}
	o.ChromiumFlags = chromiumFlags
	if *proxy != "" {
		if err := checkProxy(*proxy); err != nil {
			return usagef("scan: -proxy %q: %v", *proxy, err)
		}
		o.ChromiumFlags = append(o.ChromiumFlags, "--proxy-server="+*proxy)
	}
	// Zero would silently mean the crawler's default and a negative number
	// is meaningless; say what to do instead.
	for _, f := range []struct {
		name, instead string
		v             int
	}{
		{"max-pages", "", o.MaxPages}, {"max-depth", "; -max-pages 1 scans the start page only", o.MaxDepth},
		{"concurrency", "", o.Concurrency}, {"recycle-after", "", o.RecycleAfter},
	} {
		if f.v < 1 {
			return usagef("scan: -%s %d: want at least 1%s", f.name, f.v, f.instead)
		}
	}
	if o.MaxHeapMB < minHeapMB {
		return usagef("scan: -max-heap-mb %d: want at least %d; below that Chromium's renderers run out of memory on ordinary pages", o.MaxHeapMB, minHeapMB)
	}
	if o.Concurrency > maxConcurrency {
		return usagef("scan: -concurrency %d: want at most %d", o.Concurrency, maxConcurrency)
	}
	switch {
	case o.MaxDuration <= 0:
		return usagef("scan: -timeout %s: want a positive duration", o.MaxDuration)
	case o.PageTimeout < minPageTimeout:
		return usagef("scan: -page-timeout %s: want at least %s", o.PageTimeout, minPageTimeout)
	case *dwell < 0:
		return usagef("scan: -dwell %s: want 0 or more", *dwell)
	}
	// crawl.Options takes a negative dwell for none; zero means its default.
	o.Dwell = *dwell
	if o.Dwell == 0 {
		o.Dwell = -1
	}
	if *out != "" {
		if err := checkOutput(*out); err != nil {
			return usagef("scan: -o %q: %v", *out, err)
		}
	}
	if o.URL == "" {
		o.URL = "https://report.invalid/" // only the other options are checked
	}
	if err := o.Validate(); err != nil {
		return usagef("scan: %v", strings.TrimPrefix(err.Error(), crawl.ErrBadOptions.Error()+": "))
	}
	if len(dbs) == 0 {
		dbs = splitList(e.getenv("CRUMB_COOKIE_DB"))
	}
	var c *classify.Classifier
	if !*noClassify {
		var err error
		if c, err = classify.New(classify.Options{ExtraDB: dbs}); err != nil {
			return usagef("scan: -cookie-db: %v", err)
		}
	} else if strings.HasPrefix(*format, "declaration-") {
		return usagef("scan: a declaration needs classified items; drop -no-classify")
	}
	if *saved != "" {
		rep, err := readReport(*saved)
		if err != nil {
			return usagef("scan: -report: %v", err)
		}
		if c != nil {
			c.ClassifyReport(rep)
		}
		return writeScanOutput(e.stdout, e.stderr, *out, rep, *format, *lang, *controller)
	}
	if o.ChromiumPath == "" {
		if _, err := crawl.FindChromium(); err != nil {
			return fmt.Errorf("scan: %w (or set CRUMB_CHROMIUM)", err)
		}
	} else if _, err := exec.LookPath(o.ChromiumPath); err != nil {
		return usagef("scan: -chromium (or CRUMB_CHROMIUM) %q: %v", o.ChromiumPath, err)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	o.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	if !*quiet {
		o.Progress = func(p crawl.Progress) { printProgress(e.stderr, p) }
	}

	rep, err := crawl.Scan(ctx, o)
	if rep == nil || (err != nil && !errors.Is(err, crawl.ErrStartPage)) {
		return fmt.Errorf("scan: %w", err)
	}
	if c != nil {
		c.ClassifyReport(rep)
	}
	if werr := writeScanOutput(e.stdout, e.stderr, *out, rep, *format, *lang, *controller); werr != nil {
		return werr
	}
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	return nil
}

// readReport reads a report written with -format json.
func readReport(name string) (*scanner.Report, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var rep scanner.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if rep.SchemaVersion != scanner.SchemaVersion {
		return nil, fmt.Errorf("%s: schema version %d, want %d", name, rep.SchemaVersion, scanner.SchemaVersion)
	}
	return &rep, nil
}

// printProgress writes one line per finished page.
func printProgress(w io.Writer, p crawl.Progress) {
	status := strconv.Itoa(p.Page.Status)
	if p.Page.Status == 0 {
		status = "---"
	}
	line := fmt.Sprintf("[%s %d, %d queued, %s] %s %5s %s", p.Mode, p.Done, p.Queued, p.Elapsed.Round(time.Second), status,
		time.Duration(p.Page.Duration).Round(100*time.Millisecond), p.Page.URL)
	if p.Page.Error != "" {
		line += ": " + p.Page.Error
	}
	fmt.Fprintln(w, line)
}

// writeScanOutput renders the report to stdout or to the file named out;
// for a declaration it warns on stderr of what the scan saw set before
// consent, which the declaration then lists as an error to fix.
// A file is written under a temporary name in its directory and renamed
// to out once complete, so a failed write leaves any previous out as it was.
func writeScanOutput(stdout, stderr io.Writer, out string, rep *scanner.Report, format, lang, controller string) error {
	if strings.HasPrefix(format, "declaration-") {
		for _, t := range declaration.Tables(rep) {
			if rows := t.BeforeConsent(); len(rows) > 0 {
				names := make([]string, len(rows))
				for i, r := range rows {
					names[i] = r.Name
				}
				fmt.Fprintf(stderr, "scan: warning: %s: set before consent: %s; the declaration says so until the site is fixed\n", t.Category, strings.Join(names, ", "))
			}
		}
	}
	if out == "" {
		return renderReport(stdout, rep, format, lang, controller)
	}
	target, err := outputTarget(out)
	if err != nil {
		return fmt.Errorf("scan: -o: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return fmt.Errorf("scan: -o: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename there is nothing to remove
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(target); err == nil {
		mode = fi.Mode().Perm()
	}
	err = renderReport(f, rep, format, lang, controller)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), target)
	}
	if err != nil {
		return fmt.Errorf("scan: write report to %s: %w", out, err)
	}
	return nil
}

// outputTarget is the file -o names: out itself, or where out leads when
// it is a symbolic link (so that the link stays).
func outputTarget(out string) (string, error) {
	fi, err := os.Lstat(out)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		return out, nil
	}
	target, err := filepath.EvalSymlinks(out)
	if errors.Is(err, fs.ErrNotExist) {
		// A dangling link: write where it points.
		if t, rerr := os.Readlink(out); rerr == nil {
			if !filepath.IsAbs(t) {
				t = filepath.Join(filepath.Dir(out), t)
			}
			return t, nil
		}
	}
	return target, err
}

// checkOutput reports why the report could not be written to out, before
// a scan spends minutes crawling: its directory must exist and take a new
// file, and out must not be a directory. It leaves an existing out as it is.
func checkOutput(out string) error {
	target, err := outputTarget(out)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(target); err == nil && fi.IsDir() {
		return errors.New("is a directory; want a file name")
	}
	dir := filepath.Dir(target)
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("directory %s: %w", dir, errors.Unwrap(err))
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// Limits of the scan flags that the crawler would otherwise report without
// naming the flag.
const (
	maxConcurrency = 16
	minPageTimeout = 2 * time.Second
	// minHeapMB is the smallest -max-heap-mb: V8 needs a few MB to start a
	// renderer at all, and ordinary pages (a tag manager, a consent banner,
	// a framework) use tens, so a smaller cap makes every page crash
	// rather than catching a runaway one.
	minHeapMB = 64
)

// crawlFlags are the flags that only shape a crawl, which -report does not
// make.
var crawlFlags = []string{"consent", "max-pages", "max-depth", "timeout", "page-timeout", "dwell", "concurrency",
	"recycle-after", "max-heap-mb", "chromium", "chromium-flag", "proxy", "insecure"}

// proxySchemes are the proxy schemes Chromium's --proxy-server takes.
var proxySchemes = []string{"http", "https", "socks4", "socks5"}

// checkProxy reports what is wrong with a -proxy URL: Chromium takes
// SCHEME://HOST[:PORT] and nothing more (no credentials, no path).
func checkProxy(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL; want e.g. http://proxy.example:3128")
	}
	if !slices.Contains(proxySchemes, u.Scheme) {
		return fmt.Errorf("want a URL with scheme %s, e.g. http://proxy.example:3128", strings.Join(proxySchemes, ", "))
	}
	switch {
	case u.Hostname() == "":
		return errors.New("no host")
	case u.User != nil:
		return errors.New("Chromium takes no user name or password in a proxy URL")
	case u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return errors.New("want SCHEME://HOST[:PORT] only, no path or query")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q: want 1 to 65535", p)
		}
	}
	return nil
}

// renderReport writes the report in format; controller names the site's
// owner in a declaration ("" for the declaration's default).
func renderReport(w io.Writer, rep *scanner.Report, format, lang, controller string) error {
	if format != "json" {
		classify.SortItems(rep.Items)
	}
	var err error
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	case "csv":
		err = writeScanCSV(w, rep)
	case "md":
		err = writeScanMarkdown(w, rep)
	case "declaration-html", "declaration-md":
		err = declaration.WriteReport(w, rep, strings.TrimPrefix(format, "declaration-"), lang, declaration.Options{Controller: controller})
	default:
		err = writeScanTable(w, rep)
	}
	if err != nil {
		return fmt.Errorf("scan: write report: %w", err)
	}
	return nil
}

// scanSummary is the report's first line.
func scanSummary(rep *scanner.Report) string {
	failed := 0
	for _, p := range rep.Pages {
		if p.Failed() {
			failed++
		}
	}
	return fmt.Sprintf("Scan of %s (%s), consent %s: %d pages (%d with errors) in %s, %d items, %d third-party hosts",
		rep.Site, rep.SiteDomain, strings.Join(rep.Modes, " and "), len(rep.Pages), failed,
		rep.FinishedAt.Sub(rep.StartedAt).Round(time.Second), len(rep.Items), len(rep.ThirdPartyHosts))
}

// itemColumns are the columns the human formats show for each item.
var itemColumns = []string{"PROBLEM", "TYPE", "NAME", "DOMAIN", "PARTY", "LIFETIME", "CONSENT", "CATEGORY", "PROVIDER", "SET BY", "REASON"}

// itemRow renders an item for the human formats. modes are the report's
// consent modes: an item can be said to come after consent only if the
// scan also visited the site without consent.
func itemRow(it scanner.Item, modes []string) []string {
	c := it.Classification
	if c == nil {
		c = &scanner.Classification{}
	}
	consent := "after consent only"
	switch {
	case it.PreConsent():
		consent = "before consent"
	case !slices.Contains(modes, scanner.ModeNone):
		consent = "not checked (no visit without consent)"
	case it.ReleasedBy != "":
		consent = "after consent to " + string(it.ReleasedBy)
	}
	category, proposed := string(c.Category), c.Proposed
	if it.Classification != nil {
		// A guess from the name in a report classified by an older crumb
		// shows as the proposal it is.
		cat, p := c.Established()
		category, proposed = string(cat), p
	}
	if proposed != "" {
		category += " (" + string(proposed) + " proposed)"
	}
	return []string{string(classify.ProblemOf(it)), string(it.Kind), it.Name, it.Domain, string(it.Party),
		lifetime(it), consent, category, c.Provider, it.SetBy, c.Reason}
}

// lifetime says how long an item lasts, for a person.
func lifetime(it scanner.Item) string {
	switch {
	case it.Kind == scanner.LocalStorage || it.Kind == scanner.IndexedDB:
		return "persistent"
	case it.Session:
		return "session"
	}
	return declaration.Lifetime(time.Duration(it.Lifetime), false, "en")
}

func writeScanTable(w io.Writer, rep *scanner.Report) error {
	fmt.Fprintf(w, "%s\n\n", scanSummary(rep))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(itemColumns, "\t"))
	for _, it := range rep.Items {
		fmt.Fprintln(tw, strings.Join(itemRow(it, rep.Modes), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, sec := range scanSections(rep) {
		fmt.Fprintf(w, "\n%s:\n", sec.title)
		for _, l := range sec.lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	return nil
}

func writeScanMarkdown(w io.Writer, rep *scanner.Report) error {
	cell := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }
	fmt.Fprintf(w, "# Cookie scan of %s\n\n%s.\n\n", rep.Site, scanSummary(rep))
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(itemColumns, " | "), strings.Repeat(" --- |", len(itemColumns)))
	for _, it := range rep.Items {
		row := itemRow(it, rep.Modes)
		for i := range row {
			row[i] = cell(row[i])
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	for _, sec := range scanSections(rep) {
		fmt.Fprintf(w, "\n## %s\n\n", sec.title)
		for _, l := range sec.lines {
			fmt.Fprintf(w, "- %s\n", cell(l))
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

// scanSection is a titled list after the item table.
type scanSection struct {
	title string
	lines []string
}

func scanSections(rep *scanner.Report) []scanSection {
	var secs []scanSection
	add := func(title string, lines []string) {
		if len(lines) > 0 {
			secs = append(secs, scanSection{title, lines})
		}
	}
	var early, hosts, errs, blocked []string
	for _, h := range rep.ThirdPartyHosts {
		requests := "requests"
		if h.Requests == 1 {
			requests = "request"
		}
		line := fmt.Sprintf("%s (%d %s, %s)", h.Host, h.Requests, requests, strings.Join(h.SeenIn, ", "))
		if t := h.Tracker; t != nil {
			line += fmt.Sprintf(": %s tracker of %s", t.Category, t.Provider)
		}
		if classify.HostProblem(h) == classify.PreConsent {
			early = append(early, fmt.Sprintf("%s, first on %s", line, h.FirstPage))
		}
		hosts = append(hosts, line)
	}
	for _, p := range rep.Pages {
		if p.Failed() {
			errs = append(errs, fmt.Sprintf("%s (%s): %s", p.URL, p.Mode, p.Problem()))
		}
	}
	for _, b := range rep.BlockedCookies {
		blocked = append(blocked, fmt.Sprintf("%s on %s from %s: %s", b.Name, b.Domain, b.SetBy, strings.Join(b.Reasons, ", ")))
	}
	add("Trackers contacted before consent (pre-consent findings)", early)
	add("Third-party hosts", hosts)
	add("Pages with errors", errs)
	add("Cookies the browser refused", blocked)
	add("Notes", rep.Notes)
	return secs
}

func writeScanCSV(w io.Writer, rep *scanner.Report) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"problem", "kind", "name", "domain", "origin", "path", "party", "session", "expires", "lifetime_seconds",
		"secure", "http_only", "same_site", "size", "set_via", "set_by", "first_page", "pages", "seen_in",
		"category", "provider", "confidence", "source", "reason", "proposed", "released_by"})
	for _, it := range rep.Items {
		c := it.Classification
		if c == nil {
			c = &scanner.Classification{}
		}
		expires := ""
		if !it.Expires.IsZero() {
			expires = it.Expires.UTC().Format(time.RFC3339)
		}
		cw.Write([]string{string(classify.ProblemOf(it)), string(it.Kind), it.Name, it.Domain, it.Origin, it.Path, string(it.Party),
			strconv.FormatBool(it.Session), expires, strconv.FormatInt(int64(time.Duration(it.Lifetime)/time.Second), 10),
			strconv.FormatBool(it.Secure), strconv.FormatBool(it.HTTPOnly), it.SameSite, strconv.Itoa(it.Size),
			it.SetVia, it.SetBy, it.FirstPage, strings.Join(it.Pages, " "), strings.Join(it.SeenIn, " "),
			string(c.Category), c.Provider, string(c.Confidence), string(c.Source), c.Reason, string(c.Proposed), string(it.ReleasedBy)})
	}
	cw.Flush()
	return cw.Error()
}

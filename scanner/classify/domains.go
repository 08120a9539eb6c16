package classify

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/crumbhq/crumb/scanner"
)

// Tracker is a row of the tracker-domain table: every item a tracker's
// domain sets, or its scripts write, is taken to serve its purpose.
type Tracker struct {
	Domain   string // registrable domain or host; subdomains match
	Provider string
	Category scanner.Category // analytics or marketing: never necessary
	Source   string
	Origin   string
}

// The table's format, one tracker a line:
//
//	doubleclick.net | Google Ads (DoubleClick) | marketing | https://...
//
// Only analytics and marketing are allowed: a domain says who, not that an
// unknown item of theirs is strictly necessary.
func parseTrackers(file string, r io.Reader) ([]Tracker, error) {
	var out []Tracker
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		cols := strings.Split(text, "|")
		if len(cols) != 4 {
			return nil, fmt.Errorf("%s:%d: want domain | provider | category | source, got %d columns", file, line, len(cols))
		}
		for i := range cols {
			cols[i] = strings.TrimSpace(cols[i])
		}
		t := Tracker{Domain: strings.ToLower(cols[0]), Provider: cols[1], Category: scanner.Category(cols[2]), Source: cols[3], Origin: fmt.Sprintf("%s:%d", file, line)}
		if t.Category != scanner.Analytics && t.Category != scanner.Marketing {
			return nil, fmt.Errorf("%s:%d: %s: category %q: a tracker domain is analytics or marketing", file, line, t.Domain, t.Category)
		}
		if t.Domain == "" || t.Provider == "" || !strings.HasPrefix(t.Source, "https://") {
			return nil, fmt.Errorf("%s:%d: domain, provider and an https source are required", file, line)
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return out, nil
}

// trackerTable finds the tracker a host belongs to, walking up its labels.
type trackerTable map[string]*Tracker

func newTrackerTable(ts []Tracker) trackerTable {
	t := trackerTable{}
	for i := range ts {
		if _, dup := t[ts[i].Domain]; !dup {
			t[ts[i].Domain] = &ts[i]
		}
	}
	return t
}

// lookup returns the tracker for host or the nearest parent domain listed.
func (t trackerTable) lookup(host string) *Tracker {
	host = strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(host), "."), ".")
	for host != "" {
		if tr, ok := t[host]; ok {
			return tr
		}
		dot := strings.IndexByte(host, '.')
		if dot < 0 {
			return nil
		}
		host = host[dot+1:]
	}
	return nil
}

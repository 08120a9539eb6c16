package classify

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/crumbhq/crumb/scanner"
)

// crumb's own knowledge-base format, one file per vendor group:
//
//	# comment
//	provider: Google Analytics
//	source: https://support.google.com/analytics/answer/11397207
//	licence: crumb, written from the vendor's documentation
//	domain: google.com youtube.com      (optional; "domain: -" clears it)
//	site-evidence: shopify.com shop.app (optional, after domain; see below)
//	_ga | cookie | analytics | 2y | <purpose in Swedish> | <purpose in English>
//	PHPSESSID | cookie | necessary | session | <sv> | <en> | B-input
//
// Directives set what the entry lines below them share, until changed. An
// entry line has the columns name, kind (cookie, localStorage,
// sessionStorage or any), category, typical lifetime, Swedish purpose,
// English purpose and, for necessary entries only, the WP194 exemption code
// (see justifications).
//
// site-evidence lets the domain-restricted entries below it also apply on
// a site whose scan shows it runs on the vendor: it saw a host on or below
// one of the listed domains, or an item that an entry of the same provider
// valid on any domain names (Entry.SiteEvidence). It holds until the next
// domain or provider directive, or "site-evidence: -".

// parseKB reads entries in crumb's format from r; file names the input in
// errors and in each entry's Origin.
func parseKB(file string, r io.Reader) ([]*Entry, error) {
	var (
		entries []*Entry
		block   = Entry{Confidence: scanner.ConfidenceHigh}
		sc      = bufio.NewScanner(r)
		line    = 0
	)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		at := fmt.Sprintf("%s:%d", file, line)
		if key, val, ok := directive(text); ok {
			if err := block.set(key, val); err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			if key == "provider" {
				block.Domains, block.SiteEvidence = nil, nil
			}
			continue
		}
		e, err := parseEntryLine(text, block)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		e.Origin = at
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return entries, nil
}

// directive splits "key: value" lines; entry lines always hold a "|".
func directive(text string) (key, val string, ok bool) {
	colon := strings.IndexByte(text, ':')
	if colon < 0 || strings.ContainsRune(text, '|') {
		return "", "", false
	}
	return text[:colon], strings.TrimSpace(text[colon+1:]), true
}

func (b *Entry) set(key, val string) error {
	switch key {
	case "provider":
		b.Provider = val
	case "source":
		if !strings.HasPrefix(val, "https://") && !strings.HasPrefix(val, "http://") {
			return fmt.Errorf("source %q: want a URL", val)
		}
		b.Source = val
	case "licence":
		b.Licence = val
	case "domain":
		b.Domains, b.SiteEvidence = domainList(val), nil
	case "site-evidence":
		if len(b.Domains) == 0 && val != "-" {
			return errors.New("site-evidence goes after a domain directive: entries without one apply on any site already")
		}
		b.SiteEvidence = domainList(val)
	default:
		return fmt.Errorf("unknown directive %q (want provider, source, licence, domain or site-evidence)", key)
	}
	return nil
}

// parseEntryLine reads "name | kind | category | lifetime | sv | en [| wp194]".
func parseEntryLine(text string, block Entry) (*Entry, error) {
	cols := strings.Split(text, "|")
	for i := range cols {
		cols[i] = strings.TrimSpace(cols[i])
	}
	if len(cols) != 6 && len(cols) != 7 {
		return nil, fmt.Errorf("want 6 or 7 columns separated by |, got %d", len(cols))
	}
	if block.Provider == "" || block.Source == "" {
		return nil, fmt.Errorf("entry %q before a provider and source directive", cols[0])
	}
	e := block
	e.Name = cols[0]
	if e.Name == "" {
		return nil, fmt.Errorf("empty name")
	}
	switch k := scanner.Kind(cols[1]); k {
	case scanner.Cookie, scanner.LocalStorage, scanner.SessionStorage:
		e.Kind = k
	case "any":
		e.Kind = ""
	default:
		return nil, fmt.Errorf("entry %q: kind %q: want cookie, localStorage, sessionStorage or any", e.Name, cols[1])
	}
	e.Category = scanner.Category(cols[2])
	if !e.Category.Valid() || e.Category == scanner.Unclassified {
		return nil, fmt.Errorf("entry %q: category %q is not a category id", e.Name, cols[2])
	}
	lt, err := parseLifetime(cols[3])
	if err != nil {
		return nil, fmt.Errorf("entry %q: %w", e.Name, err)
	}
	e.Lifetime = lt
	if cols[4] == "" || cols[5] == "" {
		return nil, fmt.Errorf("entry %q: purpose in Swedish and English required", e.Name)
	}
	e.Purpose = map[string]string{"sv": cols[4], "en": cols[5]}
	if e.Category == scanner.Necessary {
		if len(cols) != 7 {
			return nil, fmt.Errorf("entry %q: necessary needs a WP194 exemption code in column 7 (%s)", e.Name, justificationCodes())
		}
		j, ok := justifications[cols[6]]
		if !ok {
			return nil, fmt.Errorf("entry %q: unknown WP194 exemption code %q (want %s)", e.Name, cols[6], justificationCodes())
		}
		e.Justification = j
	} else if len(cols) == 7 {
		return nil, fmt.Errorf("entry %q: a WP194 exemption code only goes with necessary", e.Name)
	}
	if err := e.compile(); err != nil {
		return nil, err
	}
	return &e, nil
}

func (e *Entry) compile() error {
	re, prefix, err := compileName(e.Name)
	if err != nil {
		return err
	}
	e.re, e.prefix = re, prefix
	return nil
}

// domainList reads the space-separated domains of a domain or site-evidence
// directive; "-" is none.
func domainList(val string) []string {
	if val == "-" {
		return nil
	}
	var out []string
	for _, d := range strings.Fields(val) {
		out = append(out, strings.ToLower(strings.TrimPrefix(d, ".")))
	}
	return out
}

// Package declaration turns a classified scan report into the site's cookie
// declaration: a table per category listing each cookie and storage key
// with its provider, purpose, lifetime in words and whether it is first or
// third party (R16), as HTML ready to paste into a privacy policy or as
// Markdown, in Swedish or English. Tables gives the same rows as data, for
// the banner's settings tables (widget.Cookie) and the service's API.
package declaration

import (
	"cmp"
	"errors"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/crumbhq/crumb/scanner"
)

// Errors for bad arguments to Write.
var (
	ErrFormat   = errors.New("unknown declaration format (want html or md)")
	ErrLanguage = errors.New("unknown declaration language (want sv or en)")
)

// Languages are the languages a declaration can be written in.
var Languages = []string{"sv", "en"}

// Table is one category's rows.
type Table struct {
	Category scanner.Category
	Rows     []Row
}

// Row is one cookie or storage key of the declaration. Its fields match
// widget.Cookie, so the banner's settings tables are built field by field.
type Row struct {
	Name     string
	Pattern  bool // Name holds "*" for any run of characters
	Kind     scanner.Kind
	Domain   string // without a leading dot
	Provider string
	Purpose  map[string]string // by language
	Expiry   map[string]string // lifetime in words, by language
	Party    scanner.Party
	// SharedWith is the registrable domain of a third party whose script
	// wrote this first-party item, and so can read it (R16); "" when the
	// site's own scripts or responses wrote it, or for third-party rows.
	SharedWith string
	// Proposed is the category a weak rule (a guess from the name, an
	// imported database) suggests for an unclassified row, for the site
	// owner to confirm; the row stays in the unclassified table and the
	// declaration names the proposal as unconfirmed.
	Proposed scanner.Category
	// PreConsent says the scan saw the item before any consent was given
	// (scanner.Item.PreConsent). In a category that needs consent the
	// declaration does not claim its items wait for consent, and lists
	// these rows in a note as set before consent (Table.BeforeConsent).
	PreConsent bool
	// Declared says the row is written in the site's configuration: a
	// provider it names stands as written. A scanned row's provider is
	// the knowledge base's, which the declaration words for the reader
	// (the site's own items are the site owner's, see Options.Controller).
	Declared bool
}

// BeforeConsent returns the rows of t the scan saw set before any
// consent, in a category that needs consent (not necessary, not
// unclassified): what the declaration cannot honestly call used only with
// consent, and the site owner must fix. Nil for other tables.
func (t Table) BeforeConsent() []Row {
	if !needsConsent(t.Category) {
		return nil
	}
	var out []Row
	for _, r := range t.Rows {
		if r.PreConsent {
			out = append(out, r)
		}
	}
	return out
}

func needsConsent(c scanner.Category) bool {
	return c != scanner.Necessary && c != scanner.Unclassified && c != ""
}

// Tables groups the report's items by category into rows: necessary,
// analytics, marketing, the site's own categories (by id), then items not
// yet classified. An item found on several pages or in several consent
// modes appears once; rows sort by name. Items without a classification
// count as unclassified, and so do guesses from the name, whatever they
// propose (scanner.Classification.Established): only curated knowledge,
// a consent release or the site owner puts an item in a category's table.
func Tables(r *scanner.Report) []Table {
	// One item per category, kind, name and domain: the longest-lived.
	best := map[scanner.Category]map[string]scanner.Item{}
	pre := map[scanner.Category]map[string]bool{} // any of the key's items seen before consent
	for _, it := range r.Items {
		cat := category(it)
		key := string(it.Kind) + "\x00" + it.Name + "\x00" + strings.TrimPrefix(it.Domain, ".")
		if best[cat] == nil {
			best[cat] = map[string]scanner.Item{}
		}
		if prev, ok := best[cat][key]; !ok || outlives(it, prev) {
			best[cat][key] = it
		}
		if it.PreConsent() {
			if pre[cat] == nil {
				pre[cat] = map[string]bool{}
			}
			pre[cat][key] = true
		}
	}
	var out []Table
	for _, cat := range categoryOrder(best) {
		t := Table{Category: cat}
		for key, it := range best[cat] {
			row := row(it, r)
			row.PreConsent = pre[cat][key]
			t.Rows = append(t.Rows, row)
		}
		slices.SortFunc(t.Rows, func(a, b Row) int {
			return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Domain, b.Domain), strings.Compare(string(a.Kind), string(b.Kind)))
		})
		out = append(out, t)
	}
	return out
}

func category(it scanner.Item) scanner.Category {
	cat, _ := it.Classification.Established()
	return cat
}

// outlives reports whether a lasts longer than b: persistent beats session,
// then the longer stored lifetime.
func outlives(a, b scanner.Item) bool {
	if a.Session != b.Session {
		return !a.Session
	}
	return a.Lifetime > b.Lifetime || a.Expires.After(b.Expires)
}

func row(it scanner.Item, r *scanner.Report) Row {
	domain := strings.TrimPrefix(it.Domain, ".")
	out := Row{Name: it.Name, Kind: it.Kind, Domain: domain, Provider: domain, Party: it.Party, Expiry: map[string]string{}}
	if c := it.Classification; c != nil {
		if c.Provider != "" {
			out.Provider = c.Provider
		}
		out.Purpose = c.Purpose
		if cat, proposed := c.Established(); cat == scanner.Unclassified {
			out.Proposed = proposed
		}
	}
	for _, lang := range Languages {
		out.Expiry[lang] = itemLifetime(it, r.StartedAt, lang)
	}
	out.SharedWith = sharedWith(it, r.SiteDomain)
	return out
}

// sharedWith returns the registrable domain of the third-party script
// that wrote a first-party item, or "". A third party's script that
// writes an item on the site's domain can read it too, and does: that is
// how a first-party analytics or advertising cookie reaches its provider.
func sharedWith(it scanner.Item, site string) string {
	if it.Party != scanner.FirstParty || it.SetVia != "script" || site == "" {
		return ""
	}
	u, err := url.Parse(it.SetBy)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if host == site || strings.HasSuffix(host, "."+site) {
		return ""
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}

// categoryOrder lists the categories present: built-ins first, the site's
// own by id, unclassified last.
func categoryOrder(present map[scanner.Category]map[string]scanner.Item) []scanner.Category {
	var own []scanner.Category
	for c := range present {
		switch c {
		case scanner.Necessary, scanner.Analytics, scanner.Marketing, scanner.Unclassified:
		default:
			own = append(own, c)
		}
	}
	slices.Sort(own)
	var out []scanner.Category
	for _, c := range slices.Concat([]scanner.Category{scanner.Necessary, scanner.Analytics, scanner.Marketing}, own, []scanner.Category{scanner.Unclassified}) {
		if present[c] != nil {
			out = append(out, c)
		}
	}
	return out
}

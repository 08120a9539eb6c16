// Package scandiff compares two scan reports of one site and says what
// changed: items that appeared or disappeared, items whose category changed,
// new unclassified items, new pre-consent findings, and categories and
// providers the site did not use before. The last two are what widen the
// purposes a visitor consented to (R26): a caller raises the site's revision
// when Diff.Widens reports true, so visitors are asked again.
//
// The package is pure: plain values in, plain values out, standard library
// and the scanner vocabulary only.
package scandiff

import (
	"cmp"
	"slices"

	"github.com/crumbhq/crumb/scanner"
)

// Entry is the short form of one item in a diff: enough to name it and say
// how it was classified, without the pages it was seen on.
type Entry struct {
	Kind       scanner.Kind     `json:"kind"`
	Name       string           `json:"name"`
	Domain     string           `json:"domain"`
	Path       string           `json:"path,omitempty"`
	Party      scanner.Party    `json:"party"`
	Category   scanner.Category `json:"category"`
	Provider   string           `json:"provider,omitempty"`
	PreConsent bool             `json:"pre_consent"`
	// ReleasedBy is the category whose consent alone released the item
	// (scanner.Item.ReleasedBy), when the scan could tell.
	ReleasedBy scanner.Category `json:"released_by,omitempty"`
}

// TrackerHost is a known tracker's host contacted before consent.
type TrackerHost struct {
	Host     string           `json:"host"`
	Provider string           `json:"provider"`
	Category scanner.Category `json:"category"`
}

// Reclassified is an item present in both scans whose category changed.
type Reclassified struct {
	Entry
	From scanner.Category `json:"from"`
}

// Provider is a provider that classified items name, with the categories
// its items fall in within the newer scan.
type Provider struct {
	Name       string             `json:"name"`
	Categories []scanner.Category `json:"categories"`
}

// Diff is what changed from one scan to the next. Every list is sorted by
// kind, domain, name and path, so a diff of the same two reports is always
// the same value.
type Diff struct {
	Added        []Entry        `json:"added"`
	Removed      []Entry        `json:"removed"`
	Reclassified []Reclassified `json:"reclassified"`
	// NewUnclassified lists items unclassified in the newer scan that were
	// absent from the older one or classified there.
	NewUnclassified []Entry `json:"new_unclassified"`
	// NewPreConsent lists non-necessary items seen before consent in the
	// newer scan that were not such a finding in the older one (R31).
	NewPreConsent []Entry `json:"new_pre_consent"`
	// NewPreConsentHosts lists known trackers' hosts the newer scan saw
	// contacted before consent and the older one did not (R31), whether or
	// not they stored anything.
	NewPreConsentHosts []TrackerHost `json:"new_pre_consent_hosts"`
	// NewCategories lists consent categories (neither necessary nor
	// unclassified) that items fall in now and did not before.
	NewCategories []scanner.Category `json:"new_categories"`
	// NewProviders lists providers of non-necessary items that no
	// non-necessary item named before.
	NewProviders []Provider `json:"new_providers"`
}

// Empty reports whether nothing changed.
func (d Diff) Empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Reclassified) == 0 &&
		len(d.NewUnclassified) == 0 && len(d.NewPreConsent) == 0 && len(d.NewPreConsentHosts) == 0 &&
		len(d.NewCategories) == 0 && len(d.NewProviders) == 0
}

// Widens reports whether the newer scan adds a consent category or a
// provider of non-necessary items: a change to what visitors consented to
// that calls for asking them again (R26).
func (d Diff) Widens() bool {
	return len(d.NewCategories) > 0 || len(d.NewProviders) > 0
}

// Alerts reports whether the newer scan has something the site owner must
// act on (R31): a new unclassified item, a new pre-consent finding, or a
// tracker's host newly contacted before consent.
func (d Diff) Alerts() bool {
	return len(d.NewUnclassified) > 0 || len(d.NewPreConsent) > 0 || len(d.NewPreConsentHosts) > 0
}

// Compare returns what changed from prev to next. A nil prev is a site's
// first scan: every item of next is added, every category and provider is
// new. A nil next compares against an empty scan.
func Compare(prev, next *scanner.Report) Diff {
	before, after := index(prev), index(next)
	var d Diff
	for k, e := range after {
		old, seen := before[k]
		switch {
		case !seen:
			d.Added = append(d.Added, e)
		case old.Category != e.Category:
			d.Reclassified = append(d.Reclassified, Reclassified{Entry: e, From: old.Category})
		}
		if e.Category == scanner.Unclassified && (!seen || old.Category != scanner.Unclassified) {
			d.NewUnclassified = append(d.NewUnclassified, e)
		}
		if finding(e) && (!seen || !finding(old)) {
			d.NewPreConsent = append(d.NewPreConsent, e)
		}
	}
	for k, e := range before {
		if _, ok := after[k]; !ok {
			d.Removed = append(d.Removed, e)
		}
	}
	for _, l := range [][]Entry{d.Added, d.Removed, d.NewUnclassified, d.NewPreConsent} {
		slices.SortFunc(l, compareEntries)
	}
	slices.SortFunc(d.Reclassified, func(a, b Reclassified) int { return compareEntries(a.Entry, b.Entry) })
	d.NewPreConsentHosts = newTrackerHosts(prev, next)
	d.NewCategories = newCategories(before, after)
	d.NewProviders = newProviders(before, after)
	return d
}

// finding reports whether e is a pre-consent finding: seen before consent
// and not necessary.
func finding(e Entry) bool { return e.PreConsent && e.Category != scanner.Necessary }

// consentCategory reports whether c is one a visitor is asked about.
func consentCategory(c scanner.Category) bool {
	return c != scanner.Necessary && c != scanner.Unclassified && c != ""
}

// preConsentTrackers returns the tracker hosts of a classified report
// contacted before consent, by host.
func preConsentTrackers(r *scanner.Report) map[string]TrackerHost {
	m := map[string]TrackerHost{}
	if r == nil {
		return m
	}
	for _, h := range r.ThirdPartyHosts {
		if h.Tracker != nil && h.PreConsent() {
			m[h.Host] = TrackerHost{Host: h.Host, Provider: h.Tracker.Provider, Category: h.Tracker.Category}
		}
	}
	return m
}

func newTrackerHosts(prev, next *scanner.Report) []TrackerHost {
	before := preConsentTrackers(prev)
	var out []TrackerHost
	for host, th := range preConsentTrackers(next) {
		if _, ok := before[host]; !ok {
			out = append(out, th)
		}
	}
	slices.SortFunc(out, func(a, b TrackerHost) int { return cmp.Compare(a.Host, b.Host) })
	return out
}

func newCategories(before, after map[key]Entry) []scanner.Category {
	had := map[scanner.Category]bool{}
	for _, e := range before {
		had[e.Category] = true
	}
	var out []scanner.Category
	for _, e := range after {
		if consentCategory(e.Category) && !had[e.Category] && !slices.Contains(out, e.Category) {
			out = append(out, e.Category)
		}
	}
	slices.Sort(out)
	return out
}

func newProviders(before, after map[key]Entry) []Provider {
	had := map[string]bool{}
	for _, e := range before {
		if consentCategory(e.Category) && e.Provider != "" {
			had[e.Provider] = true
		}
	}
	byName := map[string]*Provider{}
	for _, e := range after {
		if !consentCategory(e.Category) || e.Provider == "" || had[e.Provider] {
			continue
		}
		p := byName[e.Provider]
		if p == nil {
			p = &Provider{Name: e.Provider}
			byName[e.Provider] = p
		}
		if !slices.Contains(p.Categories, e.Category) {
			p.Categories = append(p.Categories, e.Category)
		}
	}
	out := make([]Provider, 0, len(byName))
	for _, p := range byName {
		slices.Sort(p.Categories)
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Provider) int { return cmp.Compare(a.Name, b.Name) })
	if len(out) == 0 {
		return nil
	}
	return out
}

// key identifies an item across scans: the same storage, the same place,
// the same name.
type key struct {
	kind               scanner.Kind
	domain, name, path string
}

func index(r *scanner.Report) map[key]Entry {
	m := map[key]Entry{}
	if r == nil {
		return m
	}
	for _, it := range r.Items {
		e := entry(it)
		k := key{it.Kind, it.Domain, it.Name, it.Path}
		if it.Kind != scanner.Cookie && it.Origin != "" {
			k.domain = it.Origin
		}
		if old, ok := m[k]; ok {
			// A report should list each item once; if it does not, keep the
			// more conservative view: seen before consent, and any category
			// over unclassified.
			e.PreConsent = e.PreConsent || old.PreConsent
			if e.Category == scanner.Unclassified {
				e.Category, e.Provider = old.Category, old.Provider
			}
		}
		m[k] = e
	}
	return m
}

func entry(it scanner.Item) Entry {
	e := Entry{
		Kind: it.Kind, Name: it.Name, Domain: it.Domain, Path: it.Path, Party: it.Party,
		Category: scanner.Unclassified, PreConsent: it.PreConsent(), ReleasedBy: it.ReleasedBy,
	}
	if c := it.Classification; c != nil && c.Category != "" {
		e.Category, e.Provider = c.Category, c.Provider
	}
	return e
}

func compareEntries(a, b Entry) int {
	return cmp.Or(
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Domain, b.Domain),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Path, b.Path),
	)
}

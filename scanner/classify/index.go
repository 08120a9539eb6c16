package classify

import (
	"cmp"
	"slices"
	"strings"

	"github.com/crumbhq/crumb/scanner"
)

// index finds the entries for a name: exact names in a map, patterns
// grouped by their literal prefix so a lookup tries only the prefixes of the
// name itself, longest (most specific) first.
type index struct {
	exact     map[string][]*Entry // by name
	folded    map[string][]*Entry // by lower-cased name, for names stored in another case
	patterns  map[string][]*Entry // by literal prefix
	maxPrefix int
	n         int
}

func newIndex() *index {
	return &index{exact: map[string][]*Entry{}, folded: map[string][]*Entry{}, patterns: map[string][]*Entry{}}
}

// add indexes entries in order; earlier entries win over later ones with
// the same name, so crumb's own knowledge goes in before extra databases.
func (ix *index) add(entries []*Entry) {
	for _, e := range entries {
		ix.n++
		if !e.Pattern() {
			ix.exact[e.Name] = append(ix.exact[e.Name], e)
			low := strings.ToLower(e.Name)
			ix.folded[low] = append(ix.folded[low], e)
			continue
		}
		ix.patterns[e.prefix] = append(ix.patterns[e.prefix], e)
		ix.maxPrefix = max(ix.maxPrefix, len(e.prefix))
	}
	for _, group := range ix.patterns {
		// Within one prefix, the pattern with more literal text is the more
		// specific; the stable sort keeps file order otherwise.
		slices.SortStableFunc(group, func(a, b *Entry) int {
			return cmp.Compare(literalLen(b.Name), literalLen(a.Name))
		})
	}
}

func literalLen(name string) int {
	n, in := 0, false
	for i := 0; i < len(name); i++ {
		switch {
		case name[i] == '<':
			in = true
		case name[i] == '>':
			in = false
		case !in && name[i] != '*':
			n++
		}
	}
	return n
}

// target is what an entry's domain restriction is checked against.
type target struct {
	kind    scanner.Kind
	domains []string // the item's cookie domain and its setter's host, lower case, no leading dot
	site    Site     // evidence about the whole site, for entries that take it
}

// applies reports whether e fits t, and whether it matched by domain (the
// item's own, or site evidence).
func (t target) applies(e *Entry) (ok, byDomain bool) {
	if !matchesKind(e.Kind, t.kind) {
		return false, false
	}
	if len(e.Domains) == 0 {
		return true, false
	}
	if t.ownDomain(e) != "" || t.site.runsOn(e) != "" {
		return true, true
	}
	return false, false
}

// ownDomain returns the domain of e that the item's cookie domain or
// setter lies on or below, or "".
func (t target) ownDomain(e *Entry) string {
	for _, d := range t.domains {
		for _, want := range e.Domains {
			if underDomain(d, want) {
				return want
			}
		}
	}
	return ""
}

// why says what tied a domain-restricted entry to the item: its own domain
// or setter, or evidence that the site runs on the vendor; "" for an entry
// valid on any domain.
func (t target) why(e *Entry) string {
	if len(e.Domains) == 0 {
		return ""
	}
	if t.ownDomain(e) != "" {
		return "its domain matches " + strings.Join(e.Domains, ", ")
	}
	return t.site.runsOn(e)
}

// pick returns the best entry of candidates for t: a domain-restricted
// entry whose domain matches beats an unrestricted one.
func pick(candidates []*Entry, t target) *Entry {
	var open *Entry
	for _, e := range candidates {
		ok, byDomain := t.applies(e)
		if ok && byDomain {
			return e
		}
		if ok && open == nil {
			open = e
		}
	}
	return open
}

// exactMatch finds an entry for the exact name; folded reports a match only
// after ignoring case.
func (ix *index) exactMatch(name string, t target) (e *Entry, folded bool) {
	if e := pick(ix.exact[name], t); e != nil {
		return e, false
	}
	if e := pick(ix.folded[strings.ToLower(name)], t); e != nil {
		return e, true
	}
	return nil, false
}

// patternMatch finds the pattern entry with the longest literal prefix that
// matches the whole name.
func (ix *index) patternMatch(name string, t target) *Entry {
	for i := min(len(name), ix.maxPrefix); i >= 0; i-- {
		group := ix.patterns[name[:i]]
		var matching []*Entry
		for _, e := range group {
			if e.re.MatchString(name) {
				matching = append(matching, e)
			}
		}
		if e := pick(matching, t); e != nil {
			return e
		}
	}
	return nil
}

// underDomain reports whether host is domain or a subdomain of it.
func underDomain(host, domain string) bool {
	if host == "" || domain == "" {
		return false
	}
	return host == domain || strings.HasSuffix(host, domain) && host[len(host)-len(domain)-1] == '.'
}

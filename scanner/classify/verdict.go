package classify

import (
	"fmt"
	"maps"
	"net/url"
	"strings"

	"github.com/crumbhq/crumb/scanner"
)

// Classify returns the verdict for one item. It never fails: an item no
// rule covers is Unclassified, with the reason.
func (c *Classifier) Classify(q Query) scanner.Classification {
	v, _ := c.ClassifyEntry(q)
	return v
}

// ClassifyEntry is Classify that also returns the knowledge-base entry or
// override behind the verdict (nil for tracker-domain, heuristic and
// unclassified verdicts), for its typical lifetime and source. The entry
// must not be modified.
func (c *Classifier) ClassifyEntry(q Query) (scanner.Classification, *Entry) {
	if q.Name == "" {
		return unclassified("the item has no name"), nil
	}
	q.Party = party(q)
	t := target{kind: q.Kind, site: q.Site}
	domain, setter := normHost(q.Domain), setterHost(q.SetBy)
	for _, d := range []string{domain, setter} {
		if d != "" {
			t.domains = append(t.domains, d)
		}
	}
	if e, _ := c.overrides.exactMatch(q.Name, t); e != nil {
		return fromEntry(e, q, t, scanner.SourceOverride, "the site owner's override"), e
	}
	if e := c.overrides.patternMatch(q.Name, t); e != nil {
		return fromEntry(e, q, t, scanner.SourceOverride, "the site owner's override"), e
	}
	// An entry that only proposes a category (an imported Functional or
	// Security row) yields to every rule that decides one.
	var proposal *Entry
	var proposalV scanner.Classification
	if e, folded := c.kb.exactMatch(q.Name, t); e != nil {
		v := fromEntry(e, q, t, scanner.SourceExact, "exact name")
		if folded {
			v.Confidence = scanner.ConfidenceMedium
			v.Reason += fmt.Sprintf(" (the knowledge base spells it %s)", e.Name)
		}
		if e.Proposed == "" {
			return v, e
		}
		proposal, proposalV = e, v
	}
	if e := c.kb.patternMatch(q.Name, t); e != nil {
		v := fromEntry(e, q, t, scanner.SourcePattern, "name pattern")
		if e.Proposed == "" {
			return v, e
		}
		if proposal == nil {
			proposal, proposalV = e, v
		}
	}
	if v, ok := c.byDomain(q, domain, setter); ok {
		return v, nil
	}
	if v, ok := released(q, domain, setter); ok {
		return v, nil
	}
	// A curated entry's proposal (with its provider and purpose) beats a
	// guess from the name; both leave the item Unclassified.
	if proposal != nil {
		return proposalV, proposal
	}
	if v, ok := heuristic(q); ok {
		return v, nil
	}
	return unclassified("no knowledge-base entry, tracker domain or name rule matches this item"), nil
}

// released classifies an item no knowledge covers by the category whose
// consent released it in the scan (scanner.Item.ReleasedBy): the site's own
// banner gates it under that category. Never necessary, and low confidence.
func released(q Query, domain, setter string) (scanner.Classification, bool) {
	c := q.ReleasedBy
	if c == "" || c == scanner.Necessary || c == scanner.Unclassified || !c.Valid() {
		return scanner.Classification{}, false
	}
	provider := setter
	if provider == "" {
		provider = domain
	}
	return scanner.Classification{
		Category:   c,
		Provider:   provider,
		Confidence: scanner.ConfidenceLow,
		Source:     scanner.SourceReleased,
		Reason:     fmt.Sprintf("no knowledge-base entry or tracker domain matches; the scan saw it only once the visitor granted %s alone (mode %s), so the site's banner gates it under %s", c, scanner.GrantMode(c), c),
		Rule:       "released:" + string(c),
	}, true
}

// ClassifyReport sets the Classification of every item in r, and the
// Tracker of every third-party host that belongs to a known tracker. Each
// item is classified with what the report shows about the whole site
// (SiteOf): a Shopify store's cart is Shopify's even on the store's own
// domain when the scan saw cdn.shopify.com or a _shopify_* cookie.
func (c *Classifier) ClassifyReport(r *scanner.Report) {
	site := c.SiteOf(r)
	for i := range r.Items {
		it := &r.Items[i]
		v := c.Classify(Query{
			Name: it.Name, Kind: it.Kind, Domain: it.Domain, SetBy: it.SetBy,
			Party: it.Party, Session: it.Session || it.Kind == scanner.SessionStorage, SiteDomain: r.SiteDomain,
			ReleasedBy: it.ReleasedBy, Site: site,
		})
		it.Classification = &v
	}
	for i := range r.ThirdPartyHosts {
		h := &r.ThirdPartyHosts[i]
		h.Tracker = nil
		if tr := c.trackers.lookup(h.Host); tr != nil {
			h.Tracker = &scanner.Tracker{Domain: tr.Domain, Provider: tr.Provider, Category: tr.Category, Source: tr.Source}
		}
	}
}

func (c *Classifier) byDomain(q Query, domain, setter string) (scanner.Classification, bool) {
	// The cookie's own domain says whose it is; for a first-party item the
	// script that wrote it does.
	var tr *Tracker
	how := ""
	if q.Party != scanner.FirstParty && domain != "" {
		tr, how = c.trackers.lookup(domain), "stored on "+domain
	}
	if tr == nil && setter != "" {
		tr, how = c.trackers.lookup(setter), "set by "+setter
	}
	if tr == nil {
		return scanner.Classification{}, false
	}
	return scanner.Classification{
		Category:   tr.Category,
		Provider:   tr.Provider,
		Confidence: scanner.ConfidenceMedium,
		Source:     scanner.SourceDomain,
		Reason:     fmt.Sprintf("%s, a domain of %s, which serves %s (source: %s); the name itself is not in the knowledge base", how, tr.Provider, tr.Category, tr.Source),
		Rule:       "domain:" + tr.Domain,
	}, true
}

func fromEntry(e *Entry, q Query, t target, src scanner.Source, how string) scanner.Classification {
	v := scanner.Classification{
		Category:      e.Category,
		Provider:      e.Provider,
		Purpose:       maps.Clone(e.Purpose),
		Confidence:    e.Confidence,
		Source:        src,
		Rule:          e.Origin + " " + e.Name,
		Justification: e.Justification,
	}
	where := "the knowledge base"
	if e.imported {
		where = "the extra cookie database " + e.Origin
	}
	switch {
	case src == scanner.SourceOverride:
		v.Reason = fmt.Sprintf("%s for %s", how, e.Name)
	case e.Source != "":
		v.Reason = fmt.Sprintf("%s %s in %s: %s (source: %s)", how, e.Name, where, e.Provider, e.Source)
	default:
		v.Reason = fmt.Sprintf("%s %s in %s: %s", how, e.Name, where, e.Provider)
	}
	if why := t.why(e); why != "" {
		v.Reason += "; " + why
	}
	if e.Proposed != "" {
		v.Category, v.Proposed, v.Confidence, v.Justification = scanner.Unclassified, e.Proposed, scanner.ConfidenceNone, ""
		v.Reason += fmt.Sprintf("; proposed %s (%s), which only the site owner can confirm (an override naming its WP194 exemption)", e.Proposed, e.proposedWhy)
	}
	if v.Category == scanner.Necessary && src != scanner.SourceOverride && len(e.Domains) == 0 && q.Party == scanner.ThirdParty {
		// A generic necessary name on someone else's domain may be theirs
		// for another purpose: ask for a look.
		v.Confidence = scanner.ConfidenceMedium
		v.Reason += "; it is third-party here, so check that it serves the embedded service the visitor uses"
	}
	return v
}

func unclassified(why string) scanner.Classification {
	return scanner.Classification{Category: scanner.Unclassified, Confidence: scanner.ConfidenceNone, Source: scanner.SourceNone, Reason: why}
}

// party returns q.Party, or derives it from the domain and the site's.
func party(q Query) scanner.Party {
	if q.Party != "" {
		return q.Party
	}
	d, site := normHost(q.Domain), normHost(q.SiteDomain)
	if d == "" || site == "" {
		return ""
	}
	if underDomain(d, site) {
		return scanner.FirstParty
	}
	return scanner.ThirdParty
}

func normHost(h string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(h)), "."), ".")
}

// setterHost returns the host of a setter URL, or "" when it has none.
func setterHost(setBy string) string {
	if setBy == "" {
		return ""
	}
	u, err := url.Parse(setBy)
	if err != nil || u.Host == "" {
		return ""
	}
	return normHost(u.Hostname())
}

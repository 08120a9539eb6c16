package classify

import (
	"fmt"
	"slices"

	"github.com/crumbhq/crumb/scanner"
)

// Site is what a scan shows about the whole site rather than one item:
// the hosts it saw and the vendors whose distinctive items it found. A
// vendor's generic name (Shopify's cart, _s, localization) counts as the
// vendor's on its own domains or when its script set the item; a
// knowledge-base entry with site evidence (Entry.SiteEvidence) also counts
// on a site that shows it runs on the vendor, such as a Shopify store on
// its own domain that loads its theme from cdn.shopify.com. The zero Site
// holds no evidence.
type Site struct {
	// Hosts the scan saw: third-party hosts the pages contacted, the
	// cookie domains and setter hosts of its items, hosts a page was
	// redirected to. Lower case, no leading dot.
	Hosts []string
	// Vendors maps a provider to an item the scan found that crumb's own
	// knowledge base names as that provider's on any domain (Shopify:
	// _shopify_y), its name.
	Vendors map[string]string
}

// SiteOf returns the evidence report r holds about the site as a whole.
// ClassifyReport passes it with every item.
func (c *Classifier) SiteOf(r *scanner.Report) Site {
	seen := map[string]bool{}
	var s Site
	addHost := func(h string) {
		if h = normHost(h); h != "" && !seen[h] {
			seen[h] = true
			s.Hosts = append(s.Hosts, h)
		}
	}
	for _, h := range r.ThirdPartyHosts {
		addHost(h.Host)
	}
	for _, p := range r.Pages {
		if p.RedirectedTo != "" {
			addHost(setterHost(p.RedirectedTo))
		}
	}
	for _, it := range r.Items {
		addHost(it.Domain)
		addHost(setterHost(it.SetBy))
		if p := c.distinctive(it); p != "" {
			if s.Vendors == nil {
				s.Vendors = map[string]string{}
			}
			if _, ok := s.Vendors[p]; !ok {
				s.Vendors[p] = it.Name
			}
		}
	}
	slices.Sort(s.Hosts)
	return s
}

// distinctive returns the provider that crumb's own knowledge base names
// for it on any domain, or "": such an item shows the site uses the
// vendor. Entries tied to domains, imported ones, proposals and names
// matched only after ignoring case do not count.
func (c *Classifier) distinctive(it scanner.Item) string {
	if it.Name == "" {
		return ""
	}
	t := target{kind: it.Kind}
	for _, d := range []string{normHost(it.Domain), setterHost(it.SetBy)} {
		if d != "" {
			t.domains = append(t.domains, d)
		}
	}
	e, folded := c.kb.exactMatch(it.Name, t)
	if e == nil {
		e, folded = c.kb.patternMatch(it.Name, t), false
	}
	if e == nil || folded || len(e.Domains) > 0 || e.imported || e.Proposed != "" {
		return ""
	}
	return e.Provider
}

// runsOn reports how s shows that the site runs on e's vendor, or "" when
// it does not (or e takes no site evidence).
func (s Site) runsOn(e *Entry) string {
	if len(e.SiteEvidence) == 0 {
		return ""
	}
	for _, h := range s.Hosts {
		h = normHost(h)
		for _, d := range e.SiteEvidence {
			if underDomain(h, d) {
				return fmt.Sprintf("the site runs on %s: the scan saw %s", e.Provider, h)
			}
		}
	}
	if name, ok := s.Vendors[e.Provider]; ok {
		return fmt.Sprintf("the site runs on %s: the scan found its %s", e.Provider, name)
	}
	return ""
}

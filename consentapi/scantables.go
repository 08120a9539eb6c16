package consentapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/declaration"
	"github.com/crumbhq/crumb/widget"
)

// Refresh rebuilds the site's banner now, from its configuration, its
// revision in the store and its latest scan; the banner is otherwise
// refreshed every minute by Run. A worker in this process calls it when a
// scan is stored.
func (s *Server) Refresh(ctx context.Context, siteID string) error {
	si, ok := s.sites[siteID]
	if !ok {
		return fmt.Errorf("refresh: site %q: %w", siteID, store.ErrNotFound)
	}
	return s.loadBanner(ctx, si, si.state.Load().revision, false)
}

// latestScan is what the banner took from the site's latest scan.
type latestScan struct {
	id string // "" before any scan
}

// addScanTables adds to the banner's cookie tables what the site's latest
// scan found and the configuration does not list, classified with the
// site owner's overrides, so the banner always shows the latest list. Rows
// the configuration writes stay as written; items of categories the site
// does not have, and unclassified items, are left to the scan report's
// alerts. A site without scans, or a store that cannot be read, leaves the
// tables as configured; ok is false in the latter case, when the banner
// may lack rows it has.
func (s *Server) addScanTables(ctx context.Context, si *site, cfg *widget.Config) (latest latestScan, ok bool) {
	run, err := s.store.LatestScan(ctx, si.cfg.ID)
	if errors.Is(err, store.ErrNotFound) {
		return latestScan{}, true
	}
	if err != nil {
		s.logger.Warn("read latest scan for the banner", "site", si.cfg.ID, "err", err)
		return latestScan{}, false
	}
	latest.id = run.ID
	if run.Report == nil {
		return latest, true
	}
	overrides, err := s.store.Overrides(ctx, si.cfg.ID)
	if err != nil {
		s.logger.Warn("read overrides for the banner", "site", si.cfg.ID, "err", err)
		return latest, false
	}
	rep := *run.Report
	rep.Items = applyOverrides(rep.Items, overrides)
	// A row the configuration writes, under any category, stands as
	// written: the scan's verdict on the same name does not list it again
	// under another category.
	var configured []widget.Cookie
	for _, c := range cfg.Categories {
		configured = append(configured, c.Cookies...)
	}
	for _, t := range declaration.Tables(&rep) {
		for i := range cfg.Categories {
			c := &cfg.Categories[i]
			if c.ID != string(t.Category) {
				continue
			}
			for _, r := range t.Rows {
				if listed(configured, r.Name) {
					continue
				}
				row := cookieRow(r, cfg.Languages)
				if c.Locked {
					row.Provider = ownerProvider(r, t.Category, si.cfg.Name, cfg.Languages)
				}
				c.Cookies = append(c.Cookies, row)
			}
		}
	}
	return latest, true
}

// declaredTables merges the cookie tables of the site's configuration into
// the tables of its latest scan (nil before any): a configured row stands
// as written and a scanned row it covers (same name, or matched by its
// pattern), in any category, is left out, as in the banner; the configured
// row keeps what the scan saw of it (set before consent, its lifetime in a
// language the configuration does not give). Categories keep the scan's
// order (necessary, analytics, marketing, the site's own by id,
// unclassified).
func declaredTables(cfg *siteconfig.Site, scanned []declaration.Table) []declaration.Table {
	var configured []widget.Cookie
	for _, c := range cfg.Categories {
		for _, ck := range c.Cookies {
			configured = append(configured, widget.Cookie{Name: ck.Name, Pattern: strings.Contains(ck.Name, "*")})
		}
	}
	// The scan's rows the configuration does not cover, by category.
	var out []declaration.Table
	var covered []declaration.Row
	for _, t := range scanned {
		kept := declaration.Table{Category: t.Category}
		for _, r := range t.Rows {
			if listed(configured, r.Name) {
				covered = append(covered, r)
			} else {
				kept.Rows = append(kept.Rows, r)
			}
		}
		if len(kept.Rows) > 0 {
			out = append(out, kept)
		}
	}
	for _, c := range cfg.Categories {
		if len(c.Cookies) == 0 {
			continue
		}
		i := slices.IndexFunc(out, func(t declaration.Table) bool { return t.Category == scanner.Category(c.ID) })
		if i < 0 {
			i = len(out)
			out = append(out, declaration.Table{Category: scanner.Category(c.ID)})
		}
		rows := make([]declaration.Row, 0, len(c.Cookies)+len(out[i].Rows))
		for _, ck := range c.Cookies {
			kind := scanner.Kind(ck.Kind)
			if kind == "" {
				kind = scanner.Cookie
			}
			provider := ck.Provider
			if provider == "" {
				provider = strings.TrimPrefix(ck.Domain, ".")
			}
			row := declaration.Row{
				Name: ck.Name, Pattern: strings.Contains(ck.Name, "*"), Kind: kind, Domain: strings.TrimPrefix(ck.Domain, "."),
				Provider: provider, Purpose: ck.Purpose, Expiry: ck.Expiry, Party: scanner.Party(ck.Party), Declared: true,
			}
			if ck.Party == "shared" && provider != "" {
				// First party, read by the provider's script.
				row.Party, row.SharedWith = scanner.FirstParty, provider
			} else if ck.Party == "shared" {
				row.Party = scanner.FirstParty
			}
			mine := []widget.Cookie{{Name: ck.Name, Pattern: row.Pattern}}
			for _, r := range covered {
				if !listed(mine, r.Name) {
					continue
				}
				row.PreConsent = row.PreConsent || r.PreConsent
				for lang, e := range r.Expiry {
					if row.Expiry[lang] == "" && e != "" {
						row.Expiry = maps.Clone(row.Expiry) // the configuration's map stays as loaded
						if row.Expiry == nil {
							row.Expiry = map[string]string{}
						}
						row.Expiry[lang] = e
					}
				}
			}
			rows = append(rows, row)
		}
		rows = append(rows, out[i].Rows...)
		slices.SortStableFunc(rows, func(a, b declaration.Row) int { return strings.Compare(a.Name, b.Name) })
		out[i].Rows = rows
	}
	// The declaration's order: necessary, analytics, marketing, the
	// site's own categories by id, unclassified.
	slices.SortStableFunc(out, func(a, b declaration.Table) int {
		return cmp.Or(cmp.Compare(tableRank(a.Category), tableRank(b.Category)), strings.Compare(string(a.Category), string(b.Category)))
	})
	return out
}

func tableRank(c scanner.Category) int {
	switch c {
	case scanner.Necessary:
		return 0
	case scanner.Analytics:
		return 1
	case scanner.Marketing:
		return 2
	case scanner.Unclassified:
		return 4
	}
	return 3
}

// applyOverrides returns a copy of items with the site owner's verdicts.
func applyOverrides(items []scanner.Item, overrides []store.Override) []scanner.Item {
	if len(overrides) == 0 {
		return items
	}
	out := make([]scanner.Item, len(items))
	for i, it := range items {
		for _, o := range overrides {
			if o.Matches(it) {
				it.Classification = &scanner.Classification{
					Category: o.Category, Provider: o.Provider, Purpose: o.Purpose,
					Confidence: scanner.ConfidenceHigh, Source: scanner.SourceOverride,
					Reason: "the site owner's override", Justification: o.Justification,
				}
			}
		}
		out[i] = it
	}
	return out
}

// listed reports whether a configured row already covers name, exactly or
// by pattern.
func listed(rows []widget.Cookie, name string) bool {
	for _, r := range rows {
		if r.Name == name || r.Pattern && globMatch(r.Name, name) {
			return true
		}
	}
	return false
}

// globMatch matches name against pattern, "*" matching any run of
// characters.
func globMatch(pattern, name string) bool {
	return store.Override{Name: pattern}.Matches(scanner.Item{Name: name})
}

// ownerProvider names who answers for a scanned row of the necessary
// category as the declaration does (declaration.ProviderText): the site's
// own items are the site owner's, controller (the configuration's name),
// with the product that sets them in brackets; never the knowledge base's
// generic framework name or a bare host. The banner has one provider cell
// for all its languages: the declaration's wording where the banner's
// languages agree on it, else without the product (the owner alone, the
// same in every language), else in the banner's first language.
//
// Only the necessary category, which is locked, is worded so: the
// revision scope (scope.go) counts the providers of refusable categories'
// rows from this same field, and the owner's name in place of a provider
// the scan gives would be a new provider there, raising the revision of
// every site at its next start. Refusable rows keep the scan's provider.
func ownerProvider(r declaration.Row, cat scanner.Category, controller string, languages []string) string {
	agreed := func(r declaration.Row) (string, bool) {
		text := ""
		for _, lang := range languages {
			p := declaration.ProviderText(lang, r, cat, controller)
			switch {
			case p == "":
				// No declaration texts in lang.
			case text == "":
				text = p
			case p != text:
				return "", false
			}
		}
		return text, text != ""
	}
	if p, ok := agreed(r); ok {
		return p
	}
	alone := r
	alone.Provider = ""
	if p, ok := agreed(alone); ok {
		return p
	}
	for _, lang := range languages {
		if p := declaration.ProviderText(lang, r, cat, controller); p != "" {
			return p
		}
	}
	return r.Provider
}

// cookieRow is a scanned row as the banner shows it. A row without a
// purpose in one of the banner's languages says, as the declaration does,
// that its purpose is not yet established, rather than leave the cell
// blank.
func cookieRow(r declaration.Row, languages []string) widget.Cookie {
	c := widget.Cookie{
		Name: r.Name, Pattern: r.Pattern || strings.Contains(r.Name, "*"), Provider: r.Provider,
		Purpose: r.Purpose, Expiry: r.Expiry, Party: string(r.Party), Domain: r.Domain,
	}
	for _, lang := range languages {
		if strings.TrimSpace(c.Purpose[lang]) != "" {
			continue
		}
		if text := declaration.NoPurpose(lang); text != "" {
			c.Purpose = maps.Clone(c.Purpose) // the scan's map stays as stored
			if c.Purpose == nil {
				c.Purpose = map[string]string{}
			}
			c.Purpose[lang] = text
		}
	}
	if r.SharedWith != "" {
		c.Party = "shared" // a third party's script wrote it, and reads it
	}
	if r.Kind != scanner.Cookie {
		c.Kind = string(r.Kind)
	}
	return c
}

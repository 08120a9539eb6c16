package consentapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	return s.loadBanner(ctx, si, si.state.Load().revision)
}

// addScanTables adds to the banner's cookie tables what the site's latest
// scan found and the configuration does not list, classified with the
// site owner's overrides, so the banner always shows the latest list. Rows
// the configuration writes stay as written; items of categories the site
// does not have, and unclassified items, are left to the scan report's
// alerts. A site without scans, or a store that cannot be read, leaves the
// tables as configured.
func (s *Server) addScanTables(ctx context.Context, si *site, cfg *widget.Config) {
	run, err := s.store.LatestScan(ctx, si.cfg.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && run.Report == nil {
		return
	}
	if err != nil {
		s.logger.Warn("read latest scan for the banner", "site", si.cfg.ID, "err", err)
		return
	}
	overrides, err := s.store.Overrides(ctx, si.cfg.ID)
	if err != nil {
		s.logger.Warn("read overrides for the banner", "site", si.cfg.ID, "err", err)
		return
	}
	rep := *run.Report
	rep.Items = applyOverrides(rep.Items, overrides)
	for _, t := range declaration.Tables(&rep) {
		for i := range cfg.Categories {
			c := &cfg.Categories[i]
			if c.ID != string(t.Category) {
				continue
			}
			for _, r := range t.Rows {
				if !listed(c.Cookies, r.Name) {
					c.Cookies = append(c.Cookies, cookieRow(r))
				}
			}
		}
	}
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

func cookieRow(r declaration.Row) widget.Cookie {
	c := widget.Cookie{
		Name: r.Name, Pattern: r.Pattern || strings.Contains(r.Name, "*"), Provider: r.Provider,
		Purpose: r.Purpose, Expiry: r.Expiry, Party: string(r.Party), Domain: r.Domain,
	}
	if r.Kind != scanner.Cookie {
		c.Kind = string(r.Kind)
	}
	return c
}

package consentapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/widget"
)

// Versioning of what visitors consent to (R26). Every change to a banner,
// wording included, gives it a new content hash (BannerHash), and each
// record names the hash it answered, so every change is versioned and
// provable. Only a change that widens what the banner asks consent for
// raises the site's revision, which makes the widget ask every visitor
// again: a new refusable category, or a new provider among the rows of a
// refusable category. A change of texts, theme, purposes' wording or
// cookie rows of providers already listed keeps the revision; so does a
// removal (visitors consented to more than is now asked).
//
// What the banners served at the site's revision asked for is kept in the
// store as the site's scope (store.SiteScope), shared by every replica.
// Each time a replica builds the banner (start-up, Refresh after an
// override or a scan, the minutely maintain) it compares the banner with
// that scope, and raises the revision by one when the banner widens it,
// with an atomic swap of the scope: replicas deciding from the same scope
// at once raise once, the others read the new scope and find nothing new.
//
// Where a widening comes from decides who raises:
//   - the site configuration: at start-up only, as the configuration only
//     changes with a restart. A replica still running the previous
//     configuration (a rolling deploy) adds its banner to the scope
//     instead, so that the two do not raise in turn;
//   - the site owner's overrides (PUT/DELETE /v1/admin/sites/{site}/overrides),
//     which classify scanned rows into categories and providers: at once;
//   - a new scan: when it is taken in, by the scan results
//     (consentapi/schedule), which ask ScanWidens whether the banner built
//     with it widens the site's scope; else (a worker in another process)
//     by the first replica that builds the banner with it. Either way the
//     scan is judged against the scope, never against the previous scan
//     alone: a tracker that drops out of one scan and comes back in the
//     next was asked for all along, and a scan that reached fewer pages
//     than the one before takes nothing from the scope. The site's first
//     scan (a scope stored without one) adds its rows without raising.
//
// The cause logged and counted is the first that applies: "config" for a
// category or provider the configuration's own rows bring (at a start);
// "scan" when a scan newer than the scope brings it; "config" for the rest
// at a start, where the configuration changed which scanned rows the
// banner shows (a row it no longer lists shows as scanned, under the
// scan's provider); "overrides" for the rest afterwards.
//
// A change of wording cannot be judged by a program: "counts visits"
// reworded as "counts visits and shares them for advertising" widens the
// purpose. So a replica starting with a configuration that words a
// refusable category differently from the last start at the same revision
// logs a warning naming it, once, for the operator to raise the revision
// if the new wording asks for more (the scope keeps a hash of the wording).
//
// A site with raise_revision: false (scan settings, config or admin API)
// keeps its revision: the widening is logged and its scope grows instead.
// A site without a stored scope (its first start, or the first start of a
// version before this one) stores its banner's scope without raising.

// scopeOf returns what cfg asks consent for: the ids of its refusable
// categories and "category|provider" for each provider of their rows.
func scopeOf(cfg widget.Config) []string {
	var out []string
	for _, c := range cfg.Categories {
		if c.Locked {
			continue
		}
		out = append(out, c.ID)
		for _, r := range c.Cookies {
			if p := providerOf(r.Provider, r.Domain, r.Party); p != "" {
				out = append(out, c.ID+"|"+p)
			}
		}
	}
	return normalScope(out)
}

// wordingOf returns, per refusable category of the configuration's banner
// conf, a hash of its name, description and its rows' purposes in every
// language.
func wordingOf(conf widget.Config) map[string]string {
	out := make(map[string]string)
	for _, c := range conf.Categories {
		if c.Locked {
			continue
		}
		purposes := make([]map[string]string, 0, len(c.Cookies))
		for _, r := range c.Cookies {
			purposes = append(purposes, map[string]string{"name": r.Name, "provider": r.Provider}, r.Purpose)
		}
		// Maps encode with sorted keys: the same wording, the same bytes.
		b, _ := json.Marshal([]any{c.Name, c.Description, purposes})
		sum := sha256.Sum256(b)
		out[c.ID] = hex.EncodeToString(sum[:8])
	}
	return out
}

// reworded returns the categories in both was and now worded differently.
func reworded(was, now map[string]string) []string {
	var out []string
	for id, h := range now {
		if old, ok := was[id]; ok && old != h {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// providerOf names the provider of a row, case-folded: its provider, else
// the domain of a third-party row. A first-party row without a provider is
// the site's own and adds none.
func providerOf(provider, domain, party string) string {
	if p := strings.TrimSpace(provider); p != "" {
		return strings.ToLower(p)
	}
	if party == string(scanner.ThirdParty) {
		return strings.ToLower(strings.TrimPrefix(domain, "."))
	}
	return ""
}

func normalScope(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// minus returns the members of a not in any of bs.
func minus(a []string, bs ...[]string) []string {
	var out []string
	for _, x := range a {
		in := false
		for _, b := range bs {
			if _, ok := slices.BinarySearch(b, x); ok {
				in = true
				break
			}
		}
		if !in {
			out = append(out, x)
		}
	}
	return out
}

// scopeChange is what building a banner did to the site's scope.
type scopeChange struct {
	raisedTo int      // the revision raised to; 0 if not raised
	wider    []string // what widened the scope
	cause    string   // "config", "overrides" or "scan"
}

// scanWidening returns what a banner with the scope scope, built from the
// configuration's banner conf and the site's latest scan, adds to the
// stored scope base, leaving out what the configuration itself brings when
// the configuration is not judged (judgeConf false: only a start brings
// one). A site's first scan (first) sets the baseline: the rows it adds
// to the configuration's are not judged.
func scanWidening(base store.SiteScope, scope []string, first bool, conf widget.Config, judgeConf bool) []string {
	skip := [][]string{normalScope(slices.Clone(base.Scope))}
	fromConf := scopeOf(conf)
	if !judgeConf {
		skip = append(skip, fromConf) // another replica's configuration
	}
	if first {
		skip = append(skip, normalScope(minus(scope, fromConf)))
	}
	return minus(scope, skip...)
}

// causeOf names what brought wider (see the comment at the top).
func causeOf(wider []string, base store.SiteScope, scanID string, conf widget.Config, startup bool) string {
	switch {
	case startup && len(minus(wider, scopeOf(conf))) < len(wider):
		return "config"
	case scanID != base.Scan:
		return "scan"
	case startup:
		return "config"
	}
	return "overrides"
}

// checkScope compares the banner built at revision rev (cfg, from the
// configuration's banner conf and the latest scan sc) with the site's
// stored scope base (nil: none, else base.Revision <= rev), and stores
// what changed. It returns the raise it decided on, if any (the caller
// raises the revision), or retry=true when another replica changed the
// scope meanwhile and the caller must build again.
func (s *Server) checkScope(ctx context.Context, si *site, rev int, base *store.SiteScope, conf, cfg widget.Config, sc latestScan, startup bool) (ch scopeChange, retry bool, err error) {
	id := si.cfg.ID
	scope := scopeOf(cfg)
	next := store.SiteScope{Revision: rev, Scope: scope, Scan: sc.id, Wording: wordingOf(conf)}
	switch {
	case base == nil:
		// The site's first banner (or the first since scopes are kept):
		// nothing to compare with.
	case base.Revision < rev:
		// Raised by a scan or an operator since: the revision starts a
		// new scope, which is this banner's.
	default:
		had := normalScope(slices.Clone(base.Scope))
		if !startup {
			next.Wording = base.Wording // only a start brings a configuration
		} else if changed := reworded(base.Wording, next.Wording); len(changed) > 0 {
			s.logger.Warn("the configuration words a category differently at the same revision: visitors keep their choices; if the new wording asks for more, raise the site's revision so that they are asked again",
				"site", id, "revision", rev, "categories", strings.Join(changed, ","))
		}
		// A scope stored before any scan, and a scan now: the first.
		ch.wider = scanWidening(*base, scope, base.Scan == "" && sc.id != "", conf, startup)
		next.Scope = normalScope(append(had, scope...))
		if len(ch.wider) > 0 {
			ch.cause = causeOf(ch.wider, *base, sc.id, conf, startup)
			if s.raiseAllowed(ctx, si) {
				next.Revision, next.Scope = rev+1, scope
				ch.raisedTo = rev + 1
			} else {
				s.logger.Warn("the banner widens what visitors consented to, but raise_revision is false: revision kept",
					"site", id, "revision", rev, "cause", ch.cause, "new", strings.Join(ch.wider, ","))
			}
		}
		if string(next.Encode()) == string(base.Encode()) {
			return ch, false, nil
		}
	}
	ok, err := s.store.SwapSiteScope(ctx, id, base, next)
	if err != nil {
		return scopeChange{}, false, fmt.Errorf("store scope: %w", err)
	}
	if !ok {
		return scopeChange{}, true, nil
	}
	return ch, false, nil
}

// ScanRaise judges a scan before it is stored, as the banner would show
// it: it returns what the banner built with run as the site's latest scan
// adds to the site's stored scope (scanWidening), and nil when nothing
// does, or when the site has no stored scope yet. The caller, the scan
// results, raises the revision when it returns something (and stores the
// scan as having raised it); the raise is counted here, with cause
// "scan". The banner built once the revision is raised starts the new
// revision's scope. Call it only for a site whose revision may be raised.
func (s *Server) ScanRaise(ctx context.Context, run store.ScanRun) ([]string, error) {
	si, ok := s.sites[run.Site]
	if !ok {
		return nil, fmt.Errorf("scan raise: site %q: %w", run.Site, store.ErrNotFound)
	}
	// Bring the scope up to date first (a raise since it was stored starts
	// a new one), as the minutely refresh would.
	if err := s.loadBanner(ctx, si, si.state.Load().revision, false); err != nil {
		return nil, fmt.Errorf("scan raise: %w", err)
	}
	base, err := s.store.SiteScope(ctx, run.Site)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("scan raise: %w", err)
	}
	// The banner's tables as they will be once run is stored: the same
	// server, reading run as the latest scan.
	view := *s
	view.store = withLatest{Store: s.store, run: run}
	conf, cfg := si.cfg.Banner(), si.cfg.Banner()
	if _, ok := view.addScanTables(ctx, si, &cfg); !ok {
		return nil, errors.New("scan raise: the latest scan or the overrides could not be read")
	}
	wider := scanWidening(base, scopeOf(cfg), run.Previous == "", conf, false)
	if len(wider) > 0 {
		s.raises.WithLabelValues(run.Site, "scan").Inc()
	}
	return wider, nil
}

// withLatest is a store whose latest scan of run.Site is run.
type withLatest struct {
	store.Store
	run store.ScanRun
}

func (w withLatest) LatestScan(ctx context.Context, site string) (store.ScanRun, error) {
	if site == w.run.Site {
		return w.run, nil
	}
	return w.Store.LatestScan(ctx, site)
}

// raiseAllowed reports whether the site's revision may be raised: its
// raise_revision scan setting, as stored through the admin API or else
// configured (default true).
func (s *Server) raiseAllowed(ctx context.Context, si *site) bool {
	site, _, err := s.scanSite(ctx, si)
	if err != nil {
		s.logger.Warn("read scan settings for raise_revision; using the configuration's", "site", si.cfg.ID, "err", err)
	}
	return site.ScanResults(nil).RaiseRevision
}

package consentapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/widget"
)

// site is a configured site with what the handlers look up per request.
type site struct {
	cfg        *siteconfig.Site
	categories []string        // ids in order, necessary first
	known      map[string]bool // category id → true
	gpc        map[string]bool // categories GPC refuses
	origins    map[string]bool
	languages  map[string]bool
	state      atomic.Pointer[bannerState]
}

// bannerState is the banner a site serves now; replaced whole when the
// revision is raised.
type bannerState struct {
	revision int
	banner   widget.Config // with Banner set
	hash     string
}

func newSite(cfg *siteconfig.Site) *site {
	si := &site{
		cfg:        cfg,
		categories: cfg.CategoryIDs(),
		known:      map[string]bool{},
		gpc:        map[string]bool{},
		origins:    map[string]bool{},
		languages:  map[string]bool{},
	}
	for _, c := range si.categories {
		si.known[c] = true
	}
	for _, c := range cfg.GPC {
		si.gpc[c] = true
	}
	for _, o := range cfg.Origins {
		si.origins[o] = true
	}
	for _, l := range cfg.Languages {
		si.languages[l] = true
	}
	return si
}

// BannerHash returns the content hash of a banner: SHA-256 of the
// canonical JSON of cfg with API and Banner emptied, hex, first 32
// characters, and that JSON, which is the snapshot kept as proof.
func BannerHash(cfg widget.Config) (hash string, snapshot []byte, err error) {
	cfg.API, cfg.Banner = "", ""
	snapshot, err = json.Marshal(cfg)
	if err != nil {
		return "", nil, fmt.Errorf("banner hash: %w", err)
	}
	sum := sha256.Sum256(snapshot)
	return hex.EncodeToString(sum[:])[:32], snapshot, nil
}

// loadBanner builds the site's banner at revision rev (the higher of rev
// and any revision stored), raising the revision when the banner widens
// what the site's visitors consented to (scope.go), stores its snapshot
// for at least the site's retention and makes it current. startup is true
// when the banner is built from a configuration this process has just
// loaded.
func (s *Server) loadBanner(ctx context.Context, si *site, rev int, startup bool) error {
	const tries = 5
	for range tries {
		done, err := s.tryLoadBanner(ctx, si, rev, startup)
		if err != nil {
			return fmt.Errorf("load banner: %w", err)
		}
		if done {
			return nil
		}
	}
	return fmt.Errorf("load banner: the site's scope changed %d times while building it", tries)
}

// tryLoadBanner is one attempt of loadBanner; false when another replica
// changed the site's scope meanwhile.
func (s *Server) tryLoadBanner(ctx context.Context, si *site, rev int, startup bool) (bool, error) {
	id := si.cfg.ID
	stored, err := s.store.SiteRevision(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return false, err
	}
	rev = max(rev, stored)
	var base *store.SiteScope
	switch sc, err := s.store.SiteScope(ctx, id); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return false, err
	default:
		base = &sc
		if sc.Revision > stored {
			// A replica stored the scope of a raise and stopped before
			// raising the revision: finish it.
			if _, err := s.store.RaiseSiteRevision(ctx, id, sc.Revision); err != nil {
				return false, err
			}
			rev = max(rev, sc.Revision)
		}
	}
	conf := si.cfg.Banner()
	cfg := si.cfg.Banner()
	latest, scanned := s.addScanTables(ctx, si, &cfg)
	if scanned {
		ch, retry, err := s.checkScope(ctx, si, rev, base, conf, cfg, latest, startup)
		if err != nil || retry {
			return false, err
		}
		if ch.raisedTo > 0 {
			got, err := s.store.RaiseSiteRevision(ctx, id, ch.raisedTo)
			if err != nil {
				return false, err
			}
			s.raises.WithLabelValues(id, ch.cause).Inc()
			s.logger.Info("the banner widens what visitors consented to; revision raised, visitors will be asked again",
				"site", id, "revision", got, "from", rev, "cause", ch.cause, "new", strings.Join(ch.wider, ","))
			rev = got
		}
	}
	cfg.Revision = rev
	hash, snapshot, err := BannerHash(cfg)
	if err != nil {
		return false, err
	}
	if err := s.store.PutBanner(ctx, id, hash, snapshot, si.cfg.Retention.Std()); err != nil {
		return false, err
	}
	cfg.Banner = hash
	si.state.Store(&bannerState{revision: rev, banner: cfg, hash: hash})
	return true, nil
}

// RaiseRevision makes rev the site's revision if it is higher than the
// current one (a scan found new cookies, issue 6): it is stored so that
// every replica and every restart follows, and the banner is rebuilt.
func (s *Server) RaiseRevision(ctx context.Context, siteID string, rev int) error {
	si, ok := s.sites[siteID]
	if !ok {
		return fmt.Errorf("raise revision: site %q: %w", siteID, store.ErrNotFound)
	}
	got, err := s.store.RaiseSiteRevision(ctx, siteID, rev)
	if err != nil {
		return fmt.Errorf("raise revision: %w", err)
	}
	return s.loadBanner(ctx, si, got, false)
}

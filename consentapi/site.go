package consentapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
// and any revision stored), stores its snapshot for at least the site's
// retention and makes it current.
func (s *Server) loadBanner(ctx context.Context, si *site, rev int) error {
	stored, err := s.store.SiteRevision(ctx, si.cfg.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("load banner: %w", err)
	case stored > rev:
		rev = stored
	}
	cfg := si.cfg.Banner()
	s.addScanTables(ctx, si, &cfg)
	cfg.Revision = rev
	hash, snapshot, err := BannerHash(cfg)
	if err != nil {
		return err
	}
	if err := s.store.PutBanner(ctx, si.cfg.ID, hash, snapshot, si.cfg.Retention.Std()); err != nil {
		return fmt.Errorf("load banner: %w", err)
	}
	cfg.Banner = hash
	si.state.Store(&bannerState{revision: rev, banner: cfg, hash: hash})
	return nil
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
	return s.loadBanner(ctx, si, got)
}

package consentapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/crumbhq/crumb/consentapi/siteconfig"
	"github.com/crumbhq/crumb/consentapi/store"
)

// scanSettingsResponse is a site's scan settings in force: the config's,
// overlaid with those stored through the admin API (Stored).
type scanSettingsResponse struct {
	Schedule      string              `json:"schedule"`
	Scheduled     bool                `json:"scheduled"`          // a scheduler runs the schedule (Redis, or serve -workers > 0)
	NextRun       *time.Time          `json:"next_run,omitempty"` // when it next runs; absent when nothing is scheduled
	StartURLs     []string            `json:"start_urls"`
	MaxPages      int                 `json:"max_pages"`
	Modes         []string            `json:"modes"`
	Keep          int                 `json:"keep"`
	RaiseRevision bool                `json:"raise_revision"`
	Webhook       bool                `json:"webhook"` // a webhook URL is configured
	Stored        *store.ScanSettings `json:"stored"`
}

// scanSite returns the site with the scan settings stored for it, and
// those settings (nil if none).
func (s *Server) scanSite(ctx context.Context, si *site) (siteconfig.Site, *store.ScanSettings, error) {
	stored, err := s.store.ScanSettings(ctx, si.cfg.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return *si.cfg, nil, nil
	case err != nil:
		return *si.cfg, nil, err
	}
	return si.cfg.WithScanSettings(stored), &stored, nil
}

func (s *Server) scanSettingsResponse(site siteconfig.Site, stored *store.ScanSettings) scanSettingsResponse {
	set := site.ScanSettings()
	res := site.ScanResults(nil)
	out := scanSettingsResponse{
		Schedule: site.ScanSchedule().String(), StartURLs: set.StartURLs, MaxPages: set.MaxPages, Modes: set.Modes,
		Keep: res.Keep, RaiseRevision: res.RaiseRevision, Webhook: res.WebhookURL != "", Stored: stored,
	}
	if out.Keep == 0 {
		out.Keep = store.DefaultScanHistory
	}
	// Without the scan queue (embedded store, no workers) no scheduler
	// runs: the schedule is configured, not in force.
	out.Scheduled = s.opts.Scans.Enqueue != nil
	if next := site.ScanSchedule().Next(site.ID, s.now()); out.Scheduled && !next.IsZero() {
		out.NextRun = &next
	}
	return out
}

// handleScanSettingsGet answers the scan settings in force.
func (s *Server) handleScanSettingsGet(c echo.Context) error {
	site, stored, err := s.scanSite(c.Request().Context(), siteOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.scanSettingsResponse(site, stored))
}

// handleScanSettingsPut stores settings that override the config's, field
// by field ({} goes back to the config); the scheduler and "scan now" use
// them from then on, on every replica.
func (s *Server) handleScanSettingsPut(c echo.Context) error {
	si := siteOf(c)
	var in store.ScanSettings
	if err := readJSON(c, &in); err != nil {
		return err
	}
	in.UpdatedAt = time.Time{}
	site := si.cfg.WithScanSettings(in)
	if err := site.CheckScan(""); err != nil {
		var ce *siteconfig.Error
		if errors.As(err, &ce) && len(ce.Problems) > 0 {
			p := ce.Problems[0]
			return badField(p.Field, "%s", p.Message)
		}
		return badField("", "%v", err)
	}
	in.UpdatedAt = s.now().UTC()
	if err := s.store.PutScanSettings(c.Request().Context(), si.cfg.ID, in); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.scanSettingsResponse(site, &in))
}

package consentapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/crumbhq/crumb/consentapi/jobqueue"
	"github.com/crumbhq/crumb/consentapi/schedule"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/declaration"
	"github.com/crumbhq/crumb/scanner/scandiff"
	"github.com/crumbhq/crumb/widget"
)

// ScanOptions connect the server to scheduled scans (issue 6). The scan
// history and overrides live in the store (store.ScanStore).
type ScanOptions struct {
	// Enqueue puts a scan job in the queue (jobqueue.Queue.Enqueue); nil
	// means scans cannot be started from the admin API.
	Enqueue func(ctx context.Context, job jobqueue.Job, dedup time.Duration) (bool, error)
	Metrics *schedule.Metrics // nil for none
}

// scanRoutes adds the scan part of the admin API to the admin group, and
// the public cookie declaration of each site's latest scan.
func (s *Server) scanRoutes(a *echo.Group, admin []echo.MiddlewareFunc) {
	get(s.e, "/v1/sites/:site/declaration", s.handleDeclaration, s.public)
	a.POST("/scans", s.handleScanStart, admin...)
	get(a, "/scans", s.handleScanList, admin...)
	get(a, "/scans/latest", s.handleScanLatest, admin...)
	get(a, "/scans/:id", s.handleScanGet, admin...)
	get(a, "/scans/:id/diff", s.handleScanDiff, admin...)
	get(a, "/overrides", s.handleOverrideList, admin...)
	a.PUT("/overrides", s.handleOverridePut, admin...)
	a.DELETE("/overrides", s.handleOverrideDelete, admin...)
	get(a, "/scan-settings", s.handleScanSettingsGet, admin...)
	a.PUT("/scan-settings", s.handleScanSettingsPut, admin...)
}

// handleScanStart queues a scan of the site now: 202 with the job id.
//
// Without a queue (the embedded store and no -workers) it is 409, not 503:
// no scan worker will ever take the job until the server is restarted
// with other settings, so a retry cannot help (503 and Retry-After say it
// can), and nothing is down (a 503 would count as a store outage). The
// message names the settings that turn scans on.
func (s *Server) handleScanStart(c echo.Context) error {
	if s.opts.Scans.Enqueue == nil {
		return errStatus(http.StatusConflict, "scans are off on this server: no scan workers are configured; start crumb serve with -workers N (CRUMB_WORKERS), or on Redis (-redis-url) with `crumb worker` processes")
	}
	si := siteOf(c)
	site, _, err := s.scanSite(c.Request().Context(), si)
	if err != nil {
		return err
	}
	settings := site.ScanSettings()
	if err := settings.Validate(); err != nil {
		return errStatus(http.StatusConflict, "%v", err)
	}
	now := s.now().UTC()
	job := jobqueue.Job{
		ID:   si.cfg.ID + "@manual-" + strconv.FormatInt(now.UnixMilli(), 10),
		Site: si.cfg.ID, Reason: jobqueue.ReasonManual, ScheduledAt: now, Data: settings.Encode(),
	}
	if _, err := s.opts.Scans.Enqueue(c.Request().Context(), job, time.Hour); err != nil {
		return fmt.Errorf("queue scan: %w", store.ErrUnavailable)
	}
	s.opts.Scans.Metrics.JobQueued(job.Site, job.Reason)
	return c.JSON(http.StatusAccepted, map[string]string{"job": job.ID, "site": job.Site})
}

func (s *Server) handleScanList(c echo.Context) error {
	runs, err := s.store.Scans(c.Request().Context(), siteOf(c).cfg.ID)
	if err != nil {
		return err
	}
	if runs == nil {
		runs = []store.ScanRun{}
	}
	return c.JSON(http.StatusOK, map[string]any{"scans": runs})
}

func (s *Server) handleScanLatest(c echo.Context) error {
	run, err := s.store.LatestScan(c.Request().Context(), siteOf(c).cfg.ID)
	if errors.Is(err, store.ErrNotFound) {
		return errStatus(http.StatusNotFound, "no scan of this site yet")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, run)
}

func (s *Server) handleScanGet(c echo.Context) error {
	run, err := s.scan(c, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, run)
}

// handleScanDiff compares scan :id with ?from= (default: the scan it was
// compared with when it was taken).
func (s *Server) handleScanDiff(c echo.Context) error {
	to, err := s.scan(c, c.Param("id"))
	if err != nil {
		return err
	}
	fromID := c.QueryParam("from")
	if fromID == "" {
		fromID = to.Previous
	}
	if fromID == "" {
		return errStatus(http.StatusNotFound, "scan %s is the site's first kept scan; name one to compare with in ?from=", to.ID)
	}
	from, err := s.scan(c, fromID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"from": from.ID, "to": to.ID, "diff": scandiff.Compare(from.Report, to.Report)})
}

func (s *Server) scan(c echo.Context, id string) (store.ScanRun, error) {
	run, err := s.store.Scan(c.Request().Context(), siteOf(c).cfg.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return run, errStatus(http.StatusNotFound, "no kept scan %q", id)
	}
	return run, err
}

func (s *Server) handleOverrideList(c echo.Context) error {
	list, err := s.store.Overrides(c.Request().Context(), siteOf(c).cfg.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"overrides": list})
}

// handleOverridePut stores the site owner's verdict on items and rebuilds
// the banner, whose cookie tables use it at once; the next scan report
// does too.
func (s *Server) handleOverridePut(c echo.Context) error {
	si := siteOf(c)
	var o store.Override
	if err := readJSON(c, &o); err != nil {
		return err
	}
	if err := si.checkOverride(o); err != nil {
		return err
	}
	o.SetAt = s.now().UTC()
	ctx := c.Request().Context()
	if err := s.store.PutOverride(ctx, si.cfg.ID, o); err != nil {
		return err
	}
	if err := s.Refresh(ctx, si.cfg.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

func (s *Server) handleOverrideDelete(c echo.Context) error {
	si := siteOf(c)
	o := store.Override{Kind: scanner.Kind(c.QueryParam("kind")), Domain: c.QueryParam("domain"), Name: c.QueryParam("name")}
	if o.Name == "" {
		return badField("name", "missing: the override's name (and its kind and domain, if it has them)")
	}
	ctx := c.Request().Context()
	if err := s.store.DeleteOverride(ctx, si.cfg.ID, o.Key()); errors.Is(err, store.ErrNotFound) {
		return errStatus(http.StatusNotFound, "no override for name %q, kind %q, domain %q", o.Name, o.Kind, o.Domain)
	} else if err != nil {
		return err
	}
	if err := s.Refresh(ctx, si.cfg.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// checkOverride names what is wrong with an override for the site.
func (si *site) checkOverride(o store.Override) error {
	switch {
	case o.Name == "" || len(o.Name) > 256:
		return badField("name", "want 1 to 256 characters (\"*\" matches any run of characters)")
	case o.Kind != "" && o.Kind != scanner.Cookie && o.Kind != scanner.LocalStorage && o.Kind != scanner.SessionStorage && o.Kind != scanner.IndexedDB:
		return badField("kind", "%q: want cookie, localStorage, sessionStorage or indexedDB", o.Kind)
	case !si.known[string(o.Category)]:
		return badField("category", "%q is not a category of this site", o.Category)
	case o.Category == scanner.Necessary && o.Justification == "":
		return badField("justification", "a necessary verdict needs the WP194 exemption it relies on (R32)")
	case len(o.Provider) > 200 || len(o.Justification) > 1000:
		return badField("provider", "too long")
	}
	for lang := range o.Purpose {
		if !si.languages[lang] {
			return badField("purpose", "%q is not a language of this site", lang)
		}
	}
	return nil
}

// categoryTexts are the names and descriptions the banner gives its
// categories, which head the declaration's tables.
func categoryTexts(b widget.Config) map[scanner.Category]declaration.CategoryText {
	out := make(map[scanner.Category]declaration.CategoryText, len(b.Categories))
	for _, c := range b.Categories {
		out[scanner.Category(c.ID)] = declaration.CategoryText{Name: c.Name, Description: c.Description}
	}
	return out
}

// handleDeclaration writes the site's cookie declaration: the cookie
// tables of its configuration with what its latest scan found (with the
// owner's overrides) and the configuration does not list, the same rows
// its banner shows, plus what the scan could not classify; before any
// scan, the configured tables, saying they are not yet checked.
// ?format=html (a fragment of tables to
// paste into a privacy policy, the default) or md, ?lang= one of the
// site's languages (default its first).
func (s *Server) handleDeclaration(c echo.Context) error {
	si := siteOf(c)
	format := c.QueryParam("format")
	if format == "" {
		format = "html"
	}
	if format != "html" && format != "md" {
		return badField("format", "%q: want html or md", format)
	}
	lang := c.QueryParam("lang")
	if lang == "" {
		lang = si.cfg.Languages[0]
	}
	if !slices.Contains(declaration.Languages, lang) || !si.languages[lang] {
		return badField("lang", "%q: want one of the site's languages with declaration texts (%s)", lang, strings.Join(declaration.Languages, ", "))
	}
	ctx := c.Request().Context()
	opts := declaration.Options{Categories: categoryTexts(si.state.Load().banner), Controller: si.cfg.Name}
	var scanned []declaration.Table
	run, err := s.store.LatestScan(ctx, si.cfg.ID)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && run.Report == nil:
		opts.Unscanned = true
	case err != nil:
		return err
	default:
		overrides, err := s.store.Overrides(ctx, si.cfg.ID)
		if err != nil {
			return err
		}
		rep := *run.Report
		rep.Items = applyOverrides(rep.Items, overrides)
		scanned = declaration.Tables(&rep)
		opts.SiteDomain, opts.ScannedAt = rep.SiteDomain, rep.StartedAt
	}
	var b strings.Builder
	if err := declaration.WriteTables(&b, declaredTables(si.cfg, scanned), format, lang, opts); err != nil {
		return err
	}
	ctype := "text/html; charset=utf-8"
	if format == "md" {
		ctype = "text/markdown; charset=utf-8"
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, ctype, []byte(b.String()))
}

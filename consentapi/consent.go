package consentapi

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/labstack/echo/v4"
)

// exportResponse is a consent's full history with the banners its records
// answered (Art. 15 and 20).
type exportResponse struct {
	ConsentID string                     `json:"consent_id"`
	Site      string                     `json:"site"`
	Records   []store.Record             `json:"records"`
	Banners   map[string]json.RawMessage `json:"banners"`
}

// handleConsentCreate records a decision: POST /v1/sites/{site}/consents.
func (s *Server) handleConsentCreate(c echo.Context) error {
	si := siteOf(c)
	var req decisionRequest
	if err := readDecision(c, &req, si); err != nil {
		return err
	}
	cats, err := si.validate(&req, si.state.Load().revision)
	if err != nil {
		return err
	}
	if err := s.checkWidgetVersion(c.Request().Context(), req.WidgetVersion); err != nil {
		return err
	}
	sent := req.Action // what the client asked for, before withdraw is judged
	if req.Action == store.Withdraw {
		takesBack, err := s.takesBack(c.Request().Context(), si, &req, cats)
		if err != nil {
			return err
		}
		if !takesBack {
			// Recorded under the action it is: refusing the decision
			// would lose the visitor's choice (the widget's view of what
			// was granted can be staler than the store's).
			req.Action = refusal(cats)
		}
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	d := store.Decision{
		Record: store.Record{
			ConsentID:     req.ConsentID,
			EventID:       req.EventID,
			Site:          si.cfg.ID,
			RecordedAt:    now,
			ExpiresAt:     now.Add(si.cfg.Validity.Std()),
			Action:        req.Action,
			Categories:    cats,
			Revision:      req.Revision,
			Banner:        req.Banner,
			Language:      req.Language,
			WidgetVersion: req.WidgetVersion,
			UserAgent:     uaFamily(c.Request().UserAgent()),
			Source:        req.Source, // "" when the client did not say
		},
		NewConsentID: newConsentID(),
		Retention:    si.cfg.Retention.Std(),
	}
	// The write finishes even if the visitor leaves: a retry with the same
	// event id then finds it.
	rec, created, err := s.store.Record(context.WithoutCancel(c.Request().Context()), d)
	if err != nil {
		return err
	}
	if !created && !sameDecision(rec, d.Record, sent) {
		// The event id is another decision's (another visitor's, or a
		// client reusing ids): answering with that record would hand this
		// visitor its consent id and cookie and drop their own choice.
		return &apiError{status: http.StatusConflict, field: "event_id",
			msg: "this event_id is already recorded with a different decision; a new decision needs a new event_id"}
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.metrics.decided(si, rec)
	}
	if origin := sameOriginOf(c); origin != "" {
		maxAge := int(rec.ExpiresAt.Sub(s.now()) / time.Second)
		value := cookieValue(rec, si.categories)
		if explicitUnderGPC(c.Request(), si.gpc, rec) {
			value += ".g"
		}
		c.SetCookie(si.consentCookie(value, origin, c.Request().Host, maxAge))
	}
	return writeConsent(c, status, rec, false)
}

// explicitUnderGPC reports whether a decision grants one of the site's gpc
// categories while the browser sends Global Privacy Control (Sec-GPC: 1):
// an explicit choice, which the cookie marks with ".g" as the widget does,
// so that later pages do not take it back for the signal.
func explicitUnderGPC(r *http.Request, gpc map[string]bool, rec store.Record) bool {
	if r.Header.Get("Sec-GPC") != "1" {
		return false
	}
	for id, granted := range rec.Categories {
		if granted && gpc[id] {
			return true
		}
	}
	return false
}

// sameDecision reports whether a stored record and a retried decision are
// the same choice: action, categories, revision, banner and language.
// Consent ids are not compared: a decision naming an unknown or expired
// consent got a new id, and its retry names the old one again. Nor is the
// source: it says what triggered the choice, not what was chosen, and the
// retry keeps the stored one.
//
// The action is compared with what the retry sent (sent), not with the
// action the server derived from it: a decision sent as withdraw is
// recorded as withdraw or as its refusal (reject_all or custom, which its
// categories decide) depending on the consent's records when it was
// judged, and another decision on the same consent committing between the
// first try and its retry can make the retry judge it the other way. Any
// other action must match exactly; the categories always must, so a
// different choice under the same event id is still refused.
func sameDecision(stored, retry store.Record, sent store.Action) bool {
	action := stored.Action == retry.Action
	if sent == store.Withdraw {
		action = stored.Action == store.Withdraw || stored.Action == refusal(retry.Categories)
	}
	return action && stored.Revision == retry.Revision &&
		stored.Banner == retry.Banner && stored.Language == retry.Language &&
		maps.Equal(stored.Categories, retry.Categories)
}

// takesBack reports whether a withdraw takes back something: the consent
// it names had, before this decision, a latest record granting one of the
// categories the decision refuses. Without a consent id, or with one the
// store does not know (never issued, expired, erased: a new consent
// starts), nothing is taken back. A retry (its event id already in the
// history) is judged against the records before it, as the first try
// was, so that both usually come to the same action; when a decision
// committed between the first try's read and its write they do not, and
// sameDecision accepts either. It is the one action that reads the
// consent before recording.
func (s *Server) takesBack(ctx context.Context, si *site, req *decisionRequest, cats map[string]bool) (bool, error) {
	if req.ConsentID == "" {
		return false, nil
	}
	latest, err := s.store.Latest(ctx, si.cfg.ID, req.ConsentID, req.EventID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	for id, granted := range cats {
		if !granted && latest.Categories[id] {
			return true, nil
		}
	}
	return false, nil
}

// refusal is the action of a decision sent as withdraw that takes back
// nothing: reject_all when it refuses every optional category, else custom.
func refusal(cats map[string]bool) store.Action {
	for id, granted := range cats {
		if granted && id != "necessary" {
			return store.Custom
		}
	}
	return store.RejectAll
}

// handleConsentGet returns a consent's current state:
// GET /v1/sites/{site}/consents/{id}.
func (s *Server) handleConsentGet(c echo.Context) error {
	si := siteOf(c)
	id := c.Param("id")
	if !validConsentID(id) {
		return errStatus(http.StatusNotFound, "no such consent")
	}
	rec, err := s.store.Latest(c.Request().Context(), si.cfg.ID, id, "")
	if errors.Is(err, store.ErrNotFound) {
		return errStatus(http.StatusNotFound, "no such consent")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return writeConsent(c, http.StatusOK, rec, true)
}

// handleConsentExport returns a consent's full history with its banners:
// GET /v1/sites/{site}/consents/{id}/export.
func (s *Server) handleConsentExport(c echo.Context) error {
	recs, err := s.history(c)
	if err != nil {
		return err
	}
	si := siteOf(c)
	out := exportResponse{ConsentID: recs[0].ConsentID, Site: si.cfg.ID, Records: recs, Banners: map[string]json.RawMessage{}}
	for _, r := range recs {
		if _, ok := out.Banners[r.Banner]; ok {
			continue
		}
		snap, err := s.store.Banner(c.Request().Context(), si.cfg.ID, r.Banner)
		if err != nil {
			return err
		}
		out.Banners[r.Banner] = snap
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="consent-`+out.ConsentID+`.json"`)
	return c.JSON(http.StatusOK, out)
}

// handleConsentErase erases every per-visitor record of a consent:
// DELETE /v1/sites/{site}/consents/{id}.
func (s *Server) handleConsentErase(c echo.Context) error {
	si := siteOf(c)
	id := c.Param("id")
	if !validConsentID(id) {
		return errStatus(http.StatusNotFound, "no such consent")
	}
	if err := s.store.Erase(context.WithoutCancel(c.Request().Context()), si.cfg.ID, id); errors.Is(err, store.ErrNotFound) {
		return errStatus(http.StatusNotFound, "no such consent")
	} else if err != nil {
		return err
	}
	if origin := sameOriginOf(c); origin != "" {
		c.SetCookie(si.consentCookie("", origin, c.Request().Host, -1))
	}
	return c.NoContent(http.StatusNoContent)
}

// history reads the consent named in the path.
func (s *Server) history(c echo.Context) ([]store.Record, error) {
	si := siteOf(c)
	id := c.Param("id")
	if !validConsentID(id) {
		return nil, errStatus(http.StatusNotFound, "no such consent")
	}
	recs, err := s.store.Consent(c.Request().Context(), si.cfg.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errStatus(http.StatusNotFound, "no such consent")
	}
	return recs, err
}

// handleImpression counts a banner impression:
// POST /v1/sites/{site}/impressions.
func (s *Server) handleImpression(c echo.Context) error {
	si := siteOf(c)
	st := si.state.Load()
	if st.banner.NoImpressions {
		// The banner served does not post impressions; counting others
		// would make the interaction rate meaningless.
		return errStatus(http.StatusNotFound, "impressions are not counted for this site: count_impressions is false")
	}
	buf, err := readBody(c)
	if err != nil {
		return err
	}
	var req impressionRequest
	if err := decodeJSON(buf, &req); err != nil {
		return err
	}
	if cur := st.revision; req.Revision < 1 || req.Revision > cur {
		if req.Revision == 0 && !hasValue(buf, "revision") {
			return badField("revision", "missing: want a revision this site has served (1 to %d)", cur)
		}
		return badField("revision", "%d: want a revision this site has served (1 to %d)", req.Revision, cur)
	}
	if !si.languages[req.Language] {
		return badField("language", "%q is not a language of this site", req.Language)
	}
	if err := s.store.Impression(context.WithoutCancel(c.Request().Context()), si.cfg.ID, s.now(), si.cfg.Retention.Std()); err != nil {
		return err
	}
	s.metrics.impressions.WithLabelValues(si.cfg.ID).Inc()
	return c.NoContent(http.StatusNoContent)
}

package consentapi

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/labstack/echo/v4"
)

// maxRangeDays bounds the date range of one admin request.
const maxRangeDays = 400

// adminSite looks up the site of an admin route (404 if unknown).
func (s *Server) adminSite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		si, ok := s.sites[c.Param("site")]
		if !ok {
			return errStatus(http.StatusNotFound, "unknown site %q", c.Param("site"))
		}
		c.Set(ctxSite, si)
		return next(c)
	}
}

// dateRange reads ?from=YYYY-MM-DD&to=YYYY-MM-DD (UTC days, inclusive).
func dateRange(c echo.Context) (from, to time.Time, err error) {
	parse := func(name string) (time.Time, error) {
		v := c.QueryParam(name)
		if v == "" {
			return time.Time{}, badField(name, "missing: want a UTC day, YYYY-MM-DD")
		}
		t, err := time.Parse(store.DayFormat, v)
		if err != nil {
			return time.Time{}, badField(name, "%q: want a UTC day, YYYY-MM-DD", v)
		}
		return t, nil
	}
	if from, err = parse("from"); err != nil {
		return
	}
	if to, err = parse("to"); err != nil {
		return
	}
	switch {
	case to.Before(from):
		err = badField("to", "before from")
	case to.Sub(from) >= maxRangeDays*24*time.Hour: // both days count
		err = badField("to", "the range is longer than %d days", maxRangeDays)
	}
	return
}

// categoryStats is one category's share of the decisions.
type categoryStats struct {
	Granted   int64    `json:"granted"`
	Denied    int64    `json:"denied"`
	OptInRate *float64 `json:"opt_in_rate"` // granted / (granted + denied); null with no decisions
}

// statsResponse is the answer of GET /v1/admin/sites/{site}/stats.
type statsResponse struct {
	Site        string                   `json:"site"`
	From        string                   `json:"from"`
	To          string                   `json:"to"`
	Impressions int64                    `json:"impressions"`
	Decisions   int64                    `json:"decisions"`
	ByAction    map[store.Action]int64   `json:"by_action"`
	Categories  map[string]categoryStats `json:"categories"`
	// AcceptRate is accept_all / all decisions; InteractionRate is
	// decisions / impressions. Null when the denominator is zero.
	AcceptRate      *float64         `json:"accept_rate"`
	InteractionRate *float64         `json:"interaction_rate"`
	Days            []store.DayStats `json:"days"`
}

func ratio(a, b int64) *float64 {
	if b == 0 {
		return nil
	}
	r := float64(a) / float64(b)
	return &r
}

// summarize adds up days of counters.
func summarize(siteID string, categories []string, days []store.DayStats) statsResponse {
	out := statsResponse{Site: siteID, ByAction: map[store.Action]int64{}, Categories: map[string]categoryStats{}, Days: days}
	for _, a := range store.Actions {
		out.ByAction[a] = 0
	}
	granted, denied := map[string]int64{}, map[string]int64{}
	for _, d := range days {
		out.Impressions += d.Impressions
		for a, n := range d.Decisions {
			out.ByAction[a] += n
			out.Decisions += n
		}
		for c, n := range d.Granted {
			granted[c] += n
		}
		for c, n := range d.Denied {
			denied[c] += n
		}
	}
	for _, c := range categories {
		out.Categories[c] = categoryStats{Granted: granted[c], Denied: denied[c], OptInRate: ratio(granted[c], granted[c]+denied[c])}
	}
	out.AcceptRate = ratio(out.ByAction[store.AcceptAll], out.Decisions)
	out.InteractionRate = ratio(out.Decisions, out.Impressions)
	if len(days) > 0 {
		out.From, out.To = days[0].Day, days[len(days)-1].Day
	}
	return out
}

// handleStats answers GET /v1/admin/sites/{site}/stats?from=&to=.
func (s *Server) handleStats(c echo.Context) error {
	si := siteOf(c)
	from, to, err := dateRange(c)
	if err != nil {
		return err
	}
	days, err := s.store.Stats(c.Request().Context(), si.cfg.ID, from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, summarize(si.cfg.ID, si.categories, days))
}

// handleProofs streams the proof log of a date range:
// GET /v1/admin/sites/{site}/proofs?from=&to=&format=ndjson|csv.
func (s *Server) handleProofs(c echo.Context) error {
	si := siteOf(c)
	from, to, err := dateRange(c)
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format == "" {
		format = "ndjson"
	}
	var w proofWriter
	res := c.Response()
	switch format {
	case "ndjson":
		res.Header().Set(echo.HeaderContentType, "application/x-ndjson")
		w = &ndjsonWriter{enc: json.NewEncoder(res)}
	case "csv":
		res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		w = newCSVWriter(res, si.categories)
	default:
		return badField("format", "%q: want ndjson or csv", format)
	}
	name := "crumb-proofs-" + si.cfg.ID + "-" + store.Day(from) + "-" + store.Day(to) + "." + format
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	res.Header().Set(echo.HeaderCacheControl, "no-store")
	// Nothing is written before the store has answered once, so that an
	// unavailable store is still a 503.
	started := false
	n := 0
	err = s.store.Proofs(c.Request().Context(), si.cfg.ID, from, to.AddDate(0, 0, 1), func(r store.Record) error {
		if !started {
			res.WriteHeader(http.StatusOK)
			started = true
		}
		if err := w.write(r); err != nil {
			return err
		}
		if n++; n%200 == 0 {
			w.flush()
			res.Flush()
		}
		return nil
	})
	if err != nil {
		if !started {
			return err
		}
		// The answer has begun: cut the connection so the client sees an
		// incomplete export rather than a short one that looks whole.
		s.logger.Error("proof export cut short", "site", si.cfg.ID, "records", n, "err", err)
		panic(http.ErrAbortHandler)
	}
	if !started {
		res.WriteHeader(http.StatusOK)
	}
	return w.flush()
}

// proofWriter writes records in an export format.
type proofWriter interface {
	write(store.Record) error
	flush() error
}

type ndjsonWriter struct{ enc *json.Encoder }

func (w *ndjsonWriter) write(r store.Record) error { return w.enc.Encode(r) }
func (w *ndjsonWriter) flush() error               { return nil }

// csvWriter writes one row per record: csvColumns, a column per site
// category ("granted"/"denied"), the categories no longer on the site in
// other_categories as id=granted;id=denied, then csvTail. Columns are only
// ever added at the end, so that spreadsheets reading older exports by
// position keep working.
type csvWriter struct {
	w          *csv.Writer
	categories []string
	header     bool
}

func newCSVWriter(res *echo.Response, categories []string) *csvWriter {
	return &csvWriter{w: csv.NewWriter(res), categories: categories}
}

var csvColumns = []string{"recorded_at", "consent_id", "event_id", "action", "revision", "banner", "language", "widget_version", "user_agent", "expires_at"}

// csvTail are the columns after other_categories: source is empty when the
// record does not say what triggered the decision.
var csvTail = []string{"source"}

func (w *csvWriter) headerRow() []string {
	h := append(append([]string{}, csvColumns...), w.categories...)
	return append(append(h, "other_categories"), csvTail...)
}

func (w *csvWriter) write(r store.Record) error {
	if !w.header {
		w.header = true
		if err := w.w.Write(w.headerRow()); err != nil {
			return err
		}
	}
	row := []string{
		r.RecordedAt.UTC().Format(time.RFC3339Nano), r.ConsentID, r.EventID, string(r.Action), strconv.Itoa(r.Revision),
		r.Banner, r.Language, r.WidgetVersion, r.UserAgent, r.ExpiresAt.UTC().Format(time.RFC3339Nano),
	}
	known := map[string]bool{}
	for _, c := range w.categories {
		known[c] = true
		row = append(row, grantWord(r.Categories, c))
	}
	var other []string
	for c := range r.Categories {
		if !known[c] {
			other = append(other, c+"="+grantWord(r.Categories, c))
		}
	}
	sort.Strings(other)
	row = append(row, strings.Join(other, ";"), string(r.Source))
	for i, cell := range row {
		row[i] = asText(cell)
	}
	return w.w.Write(row)
}

// asText keeps a spreadsheet from reading a cell as a formula: one that
// starts with = + - @ or a tab or carriage return (event and consent ids
// may start with "-") gets a leading apostrophe, which spreadsheets show
// as text and hide.
func asText(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

func (w *csvWriter) flush() error {
	if !w.header {
		w.header = true
		w.w.Write(w.headerRow())
	}
	w.w.Flush()
	return w.w.Error()
}

func grantWord(cats map[string]bool, id string) string {
	g, ok := cats[id]
	switch {
	case !ok:
		return ""
	case g:
		return "granted"
	default:
		return "denied"
	}
}

package consentapi_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi"
	"github.com/crumbhq/crumb/consentapi/store"
	dto "github.com/prometheus/client_model/go"
)

// fill records impressions and decisions on shop today: 4 impressions,
// accept_all (source banner), reject_all (source placeholder), custom
// (analytics, no source) and one replay (naming source script, which is
// not stored).
func fill(t *testing.T, e *env) {
	t.Helper()
	for range 4 {
		wantStatus(t, e.do(t, request{method: "POST", path: "/v1/sites/shop/impressions", body: `{"revision":1,"language":"en"}`}), http.StatusNoContent)
	}
	bodies := []map[string]any{
		{"event_id": "evt-accept-0000000001", "action": "accept_all", "categories": map[string]any{"necessary": true, "analytics": true, "marketing": true}, "source": "banner"},
		{"event_id": "evt-reject-0000000001", "action": "reject_all", "categories": map[string]any{"necessary": true, "analytics": false, "marketing": false}, "source": "placeholder"},
		{"event_id": "evt-custom-0000000001"},
		{"event_id": "evt-custom-0000000001", "source": "script"}, // replay: not counted, source not stored
	}
	for _, b := range bodies {
		rec := e.do(t, request{method: "POST", path: "/v1/sites/shop/consents", body: e.decision(t, b)})
		if rec.Code != http.StatusCreated && rec.Code != http.StatusOK {
			t.Fatalf("decision: %d %s", rec.Code, rec.Body)
		}
	}
}

func TestStats(t *testing.T) {
	e := newEnv(t)
	fill(t, e)
	today := time.Now().UTC().Format("2006-01-02")
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
	rec := e.do(t, request{method: "GET", path: "/v1/admin/sites/shop/stats?from=" + yesterday + "&to=" + today, header: admin})
	wantStatus(t, rec, http.StatusOK)
	var st struct {
		Impressions, Decisions int64
		ByAction               map[string]int64 `json:"by_action"`
		AcceptRate             *float64         `json:"accept_rate"`
		InteractionRate        *float64         `json:"interaction_rate"`
		Categories             map[string]struct {
			Granted, Denied int64
			OptInRate       *float64 `json:"opt_in_rate"`
		}
		Days []store.DayStats
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("imp=%d dec=%d acc=%d rej=%d cus=%d accept=%.3f interaction=%.3f analytics=%d/%d %.3f marketing=%.3f days=%d",
		st.Impressions, st.Decisions, st.ByAction["accept_all"], st.ByAction["reject_all"], st.ByAction["custom"],
		*st.AcceptRate, *st.InteractionRate, st.Categories["analytics"].Granted, st.Categories["analytics"].Denied,
		*st.Categories["analytics"].OptInRate, *st.Categories["marketing"].OptInRate, len(st.Days))
	want := "imp=4 dec=3 acc=1 rej=1 cus=1 accept=0.333 interaction=0.750 analytics=2/1 0.667 marketing=0.333 days=2"
	if got != want {
		t.Errorf("stats\n got %s\nwant %s", got, want)
	}
}

func TestProofExport(t *testing.T) {
	e := newEnv(t)
	fill(t, e)
	today := time.Now().UTC().Format("2006-01-02")
	path := "/v1/admin/sites/shop/proofs?from=" + today + "&to=" + today

	rec := e.do(t, request{method: "GET", path: path, header: admin})
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type=%q", ct)
	}
	var events []string
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		var r store.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if r.Source == "" && strings.Contains(sc.Text(), `"source"`) {
			t.Errorf("a record without a source names one: %s", sc.Text())
		}
		events = append(events, r.EventID+"/"+string(r.Source))
	}
	if got, want := strings.Join(events, ","), "evt-accept-0000000001/banner,evt-reject-0000000001/placeholder,evt-custom-0000000001/"; got != want {
		t.Errorf("ndjson events/sources %s, want %s", got, want)
	}

	rec = e.do(t, request{method: "GET", path: path + "&format=csv", header: admin})
	wantStatus(t, rec, http.StatusOK)
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(rows[0], ","), "recorded_at,consent_id,event_id,action,revision,banner,language,widget_version,user_agent,expires_at,necessary,analytics,marketing,other_categories,source"; got != want {
		t.Errorf("csv header %s", got)
	}
	if len(rows) != 4 || rows[2][3] != "reject_all" || rows[2][11] != "denied" || rows[1][12] != "granted" {
		t.Errorf("csv rows %q", rows)
	}
	var sources []string
	for _, row := range rows[1:] {
		sources = append(sources, row[14])
	}
	if got, want := strings.Join(sources, ","), "banner,placeholder,"; got != want {
		t.Errorf("csv sources %q, want %q (the last column; empty when not stated)", got, want)
	}

	// The erased visitor disappears from the proof log.
	var custom answer
	for _, line := range strings.Split(e.do(t, request{method: "GET", path: path, header: admin}).Body.String(), "\n") {
		if strings.Contains(line, "evt-custom") {
			json.Unmarshal([]byte(line), &custom)
		}
	}
	wantStatus(t, e.do(t, request{method: "DELETE", path: "/v1/admin/sites/shop/consents/" + custom.ConsentID, header: admin}), http.StatusNoContent)
	if body := e.do(t, request{method: "GET", path: path, header: admin}).Body.String(); strings.Contains(body, custom.ConsentID) {
		t.Error("the proof log still holds the erased consent")
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	fill(t, e)
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			got[f.GetName()+labels(m)] = value(m)
		}
	}
	for name, want := range map[string]float64{
		`crumb_consent_impressions_total{site="shop"}`:                                                     4,
		`crumb_consent_decisions_total{action="accept_all",site="shop"}`:                                   1,
		`crumb_consent_decisions_total{action="custom",site="shop"}`:                                       1,
		`crumb_consent_decisions_total{action="withdraw",site="blog"}`:                                     0,
		`crumb_consent_choices_total{category="analytics",granted="true",site="shop"}`:                     2,
		`crumb_consent_choices_total{category="marketing",granted="false",site="shop"}`:                    2,
		`crumb_consent_accept_rate{site="shop"}`:                                                           1.0 / 3,
		`crumb_consent_interaction_rate{site="shop"}`:                                                      0.75,
		`crumb_consent_opt_in_rate{category="analytics",site="shop"}`:                                      2.0 / 3,
		`crumb_consent_window_decisions{action="reject_all",site="shop"}`:                                  1,
		`crumb_http_request_duration_seconds{method="POST",route="/v1/sites/:site/consents",status="201"}`: 3,
		`crumb_http_request_duration_seconds{method="POST",route="/v1/sites/:site/consents",status="200"}`: 1,
	} {
		if g, ok := got[name]; !ok || g != want {
			t.Errorf("%s = %v (present %v), want %v", name, g, ok, want)
		}
	}

	// /metrics is served to the admin token.
	rec := e.do(t, request{method: "GET", path: "/metrics", header: admin})
	wantStatus(t, rec, http.StatusOK)
	if !strings.Contains(rec.Body.String(), "crumb_consent_decisions_total") {
		t.Error("/metrics lacks crumb_consent_decisions_total")
	}
}

// TestMetricsToken: a separate metrics token guards /metrics; with no
// token at all /metrics and the admin API are off.
func TestMetricsToken(t *testing.T) {
	e := newEnv(t, func(o *consentapi.Options) { o.MetricsToken = "scrape" })
	wantStatus(t, e.do(t, request{method: "GET", path: "/metrics", header: map[string]string{"Authorization": "Bearer scrape"}}), http.StatusOK)
	wantStatus(t, e.do(t, request{method: "GET", path: "/metrics", header: admin}), http.StatusUnauthorized)

	off := newEnv(t, func(o *consentapi.Options) { o.AdminToken = "" })
	wantStatus(t, off.do(t, request{method: "GET", path: "/metrics"}), http.StatusNotFound)
	wantStatus(t, off.do(t, request{method: "GET", path: "/v1/admin/sites/shop/stats?from=2026-01-01&to=2026-01-01", header: admin}), http.StatusNotFound)
}

// TestAdminBoundaries: the date range counts both days and allows 400;
// the bearer scheme is matched in any case, the token exactly.
func TestAdminBoundaries(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		query  string
		auth   string
		status int
	}{
		{"one day", "from=2026-01-01&to=2026-01-01", "Bearer " + adminToken, http.StatusOK},
		{"400 days", "from=2025-01-01&to=2026-02-04", "Bearer " + adminToken, http.StatusOK},
		{"401 days", "from=2025-01-01&to=2026-02-05", "Bearer " + adminToken, http.StatusBadRequest},
		{"to before from", "from=2026-01-02&to=2026-01-01", "Bearer " + adminToken, http.StatusBadRequest},
		{"scheme in lower case", "from=2026-01-01&to=2026-01-01", "bearer " + adminToken, http.StatusOK},
		{"other scheme", "from=2026-01-01&to=2026-01-01", "Basic " + adminToken, http.StatusUnauthorized},
		{"token in other case", "from=2026-01-01&to=2026-01-01", "Bearer " + strings.ToUpper(adminToken), http.StatusUnauthorized},
		{"token with a suffix", "from=2026-01-01&to=2026-01-01", "Bearer " + adminToken + "x", http.StatusUnauthorized},
		{"no scheme", "from=2026-01-01&to=2026-01-01", adminToken, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(t, request{method: "GET", path: "/v1/admin/sites/shop/stats?" + tt.query, header: map[string]string{"Authorization": tt.auth}})
			wantStatus(t, rec, tt.status)
		})
	}
}

// TestProbes: /healthz and /readyz answer GET and HEAD (load balancers'
// health checks often send HEAD).
func TestProbes(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		for _, method := range []string{"GET", "HEAD"} {
			t.Run(method+" "+path, func(t *testing.T) {
				wantStatus(t, e.do(t, request{method: method, path: path}), http.StatusOK)
			})
		}
	}
}

func labels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

// TestProofExportCSVText: an id that starts like a formula (event and
// consent ids may start with "-") is exported as text, with a leading
// apostrophe, so a spreadsheet shows the id and never computes it.
func TestProofExportCSVText(t *testing.T) {
	e := newEnv(t)
	wantStatus(t, e.do(t, request{method: "POST", path: "/v1/sites/shop/consents",
		body: e.decision(t, map[string]any{"event_id": "-A1-A1-A1-A1-A1-A1"})}), http.StatusCreated)
	today := time.Now().UTC().Format("2006-01-02")
	rec := e.do(t, request{method: "GET", path: "/v1/admin/sites/shop/proofs?from=" + today + "&to=" + today + "&format=csv", header: admin})
	wantStatus(t, rec, http.StatusOK)
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1][2] != "'-A1-A1-A1-A1-A1-A1" || rows[1][3] != "custom" {
		t.Errorf("csv rows %q, want the event id as text ('-A1-A1-A1-A1-A1-A1)", rows)
	}
}

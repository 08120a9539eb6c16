package store

import "time"

// Action is what the visitor did.
type Action string

// The actions a decision can record.
const (
	AcceptAll Action = "accept_all"
	RejectAll Action = "reject_all"
	Custom    Action = "custom"
	Withdraw  Action = "withdraw"
	GPC       Action = "gpc" // derived from a Global Privacy Control signal
)

// Actions lists every action, in a fixed order.
var Actions = []Action{AcceptAll, RejectAll, Custom, Withdraw, GPC}

// Valid reports whether a is one of Actions.
func (a Action) Valid() bool {
	switch a {
	case AcceptAll, RejectAll, Custom, Withdraw, GPC:
		return true
	}
	return false
}

// Source is what triggered a decision on the page (R22 "signal source"):
// which part of the banner the visitor used, or the page's own script.
type Source string

// The sources a decision can name. A decision that names none (an older
// widget, a direct API user) has the empty Source: not stated, never
// guessed.
const (
	SourceBanner      Source = "banner"      // a button of the first layer
	SourceSettings    Source = "settings"    // the second layer (Settings)
	SourcePlaceholder Source = "placeholder" // the button of an embed placeholder
	SourceScript      Source = "script"      // the page's script calling the widget's JS API
)

// Sources lists every source, in a fixed order.
var Sources = []Source{SourceBanner, SourceSettings, SourcePlaceholder, SourceScript}

// Valid reports whether s is one of Sources (the empty Source is not).
func (s Source) Valid() bool {
	switch s {
	case SourceBanner, SourceSettings, SourcePlaceholder, SourceScript:
		return true
	}
	return false
}

// Record is one decision kept as proof of consent (R22). It holds no IP
// address and no user agent beyond a coarse family (R24).
type Record struct {
	ConsentID  string          `json:"consent_id"`
	EventID    string          `json:"event_id"`
	Site       string          `json:"site"`
	RecordedAt time.Time       `json:"recorded_at"` // server time, UTC
	ExpiresAt  time.Time       `json:"expires_at"`  // when the choice lapses
	Action     Action          `json:"action"`
	Categories map[string]bool `json:"categories"` // every site category, granted or denied
	Revision   int             `json:"revision"`
	Banner     string          `json:"banner"` // hash of the banner snapshot answered
	Language   string          `json:"language"`
	// WidgetVersion is the hash of the widget bundle that sent the decision.
	WidgetVersion string `json:"widget_version"`
	// UserAgent is a coarse browser family: chrome, firefox, safari, edge,
	// other.
	UserAgent string `json:"user_agent"`
	// Source is what triggered the decision; empty (and left out of the
	// JSON) when the client did not say, as in records written before
	// crumb kept it.
	Source Source `json:"source,omitempty"`
}

// DayStats are the aggregate counters of one site on one UTC day. They
// hold no consent ids and survive erasure.
type DayStats struct {
	Day         string           `json:"day"` // YYYY-MM-DD
	Impressions int64            `json:"impressions"`
	Decisions   map[Action]int64 `json:"decisions"` // by action
	Granted     map[string]int64 `json:"granted"`   // decisions granting each category
	Denied      map[string]int64 `json:"denied"`    // decisions denying each category
}

// NewDayStats returns empty counters for day.
func NewDayStats(day string) DayStats {
	return DayStats{Day: day, Decisions: map[Action]int64{}, Granted: map[string]int64{}, Denied: map[string]int64{}}
}

// DayFormat is the layout of DayStats.Day.
const DayFormat = "2006-01-02"

// Day returns the UTC day of t as YYYY-MM-DD.
func Day(t time.Time) string { return t.UTC().Format(DayFormat) }

// DayEnd returns the end of the UTC day of t (the next midnight).
func DayEnd(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// Days returns the UTC days from first to last inclusive, at most max of
// them.
func Days(first, last time.Time, max int) []string {
	var days []string
	y, m, d := first.UTC().Date()
	for t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC); !t.After(last.UTC()) && len(days) < max; t = t.AddDate(0, 0, 1) {
		days = append(days, Day(t))
	}
	return days
}

package scanner

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Consent modes a scan visits the site in.
const (
	ModeNone      = "none"       // a visitor who has not chosen: everything non-necessary found is a pre-consent finding
	ModeAcceptAll = "accept-all" // a visitor who granted every category
	// ModeGrantPrefix starts the mode of a visitor who granted one category
	// only (besides the necessary ones): "grant:analytics". What such a
	// visit finds that a visit without consent did not is released by that
	// category (Item.ReleasedBy).
	ModeGrantPrefix = "grant:"
)

// GrantMode returns the consent mode that grants category c alone.
func GrantMode(c Category) string { return ModeGrantPrefix + string(c) }

// GrantedCategory returns the category a "grant:" mode grants, and "" and
// false for any other mode (none, accept-all).
func GrantedCategory(mode string) (Category, bool) {
	c, ok := strings.CutPrefix(mode, ModeGrantPrefix)
	if !ok {
		return "", false
	}
	return Category(c), true
}

// CheckMode reports what is wrong with a consent mode's spelling, or nil:
// it must be none, accept-all, or grant: followed by a category id other
// than necessary (which every mode grants) and unclassified. Whether the
// category is one the site has is for the caller to check.
func CheckMode(mode string) error {
	if mode == ModeNone || mode == ModeAcceptAll {
		return nil
	}
	c, ok := GrantedCategory(mode)
	switch {
	case !ok:
		return fmt.Errorf("unknown consent mode %q (want %s, %s or %s<category>)", mode, ModeNone, ModeAcceptAll, ModeGrantPrefix)
	case !c.Valid():
		return fmt.Errorf("consent mode %q: %q is not a category id (a-z, 0-9 and _, starting with a letter)", mode, c)
	case c == Necessary || c == Unclassified:
		return fmt.Errorf("consent mode %q: want a category a visitor can grant, not %s", mode, c)
	}
	return nil
}

// Report is the result of one scan of one site. Its JSON form is versioned by
// SchemaVersion.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	Site          string    `json:"site"`        // the start URL
	SiteDomain    string    `json:"site_domain"` // registrable domain (eTLD+1) that counts as first party
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	Modes         []string  `json:"modes"` // consent modes visited, in order
	// Granted lists the "grant:" modes in which the scanner could grant
	// their category alone (through crumb's consent cookie). Only those
	// modes release items (Item.ReleasedBy); in the others the site saw a
	// visitor without consent.
	Granted []string `json:"granted,omitempty"`

	Pages           []Page `json:"pages"`
	Items           []Item `json:"items"`
	ThirdPartyHosts []Host `json:"third_party_hosts"`

	// BlockedCookies are cookies a response tried to set and the browser
	// refused (e.g. a third-party cookie without SameSite=None; Secure).
	BlockedCookies []BlockedCookie `json:"blocked_cookies,omitempty"`
	// Notes say what the scan did beyond visiting pages (the consent it
	// granted, limits it reached, sitemaps it could not read).
	Notes []string `json:"notes,omitempty"`
}

// Page is one page visit of a scan.
type Page struct {
	URL      string   `json:"url"`
	Mode     string   `json:"mode"`
	Via      string   `json:"via"` // how it was found: "start", "sitemap", "link"
	Depth    int      `json:"depth"`
	Status   int      `json:"status,omitempty"` // HTTP status of the main document; 0 if none arrived
	Error    string   `json:"error,omitempty"`
	Duration Duration `json:"duration"`

	// RedirectedTo is where the page ended up, when a redirect on the site
	// took it elsewhere.
	RedirectedTo string `json:"redirected_to,omitempty"`
}

// Failed reports whether the page is one with errors: it failed to load
// (Error), or its main document came with an HTTP error status (4xx or
// 5xx), such as a link to a page that does not exist.
func (p Page) Failed() bool { return p.Error != "" || p.Status >= 400 }

// Problem says what went wrong with a failed page: its error, its HTTP
// error status, or both; "" for a page without errors.
func (p Page) Problem() string {
	var parts []string
	if p.Status >= 400 {
		parts = append(parts, fmt.Sprintf("HTTP %d", p.Status))
	}
	if p.Error != "" {
		parts = append(parts, p.Error)
	}
	return strings.Join(parts, "; ")
}

// Host is a third-party host the site's pages contacted.
type Host struct {
	Host      string   `json:"host"`
	Requests  int      `json:"requests"`
	FirstPage string   `json:"first_page"`
	SeenIn    []string `json:"seen_in"` // consent modes

	// Tracker is set by the classifier when the host belongs to a known
	// tracker; contacting it before consent is a finding (R31).
	Tracker *Tracker `json:"tracker,omitempty"`
}

// PreConsent reports whether the host was contacted on a visit without any
// consent given.
func (h Host) PreConsent() bool { return slices.Contains(h.SeenIn, ModeNone) }

// Tracker says whose tracking host a third-party host is.
type Tracker struct {
	Domain   string   `json:"domain"` // the tracker domain the host lies under
	Provider string   `json:"provider"`
	Category Category `json:"category"` // analytics or marketing
	Source   string   `json:"source,omitempty"`
}

// BlockedCookie is a cookie the browser refused to store, with its reasons
// as Chromium gives them (e.g. "SameSiteUnspecifiedTreatedAsLax",
// "ThirdPartyPhaseout").
type BlockedCookie struct {
	Name      string   `json:"name"`
	Domain    string   `json:"domain"`
	SetBy     string   `json:"set_by"`
	Reasons   []string `json:"reasons"`
	FirstPage string   `json:"first_page"`
	SeenIn    []string `json:"seen_in"`
}

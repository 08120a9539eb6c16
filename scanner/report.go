package scanner

import "time"

// Consent modes a scan visits the site in.
const (
	ModeNone      = "none"       // a visitor who has not chosen: everything non-necessary found is a pre-consent finding
	ModeAcceptAll = "accept-all" // a visitor who granted every category
)

// Report is the result of one scan of one site. Its JSON form is versioned by
// SchemaVersion.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	Site          string    `json:"site"`        // the start URL
	SiteDomain    string    `json:"site_domain"` // registrable domain (eTLD+1) that counts as first party
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	Modes         []string  `json:"modes"` // consent modes visited, in order

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

// Host is a third-party host the site's pages contacted.
type Host struct {
	Host      string   `json:"host"`
	Requests  int      `json:"requests"`
	FirstPage string   `json:"first_page"`
	SeenIn    []string `json:"seen_in"` // consent modes
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

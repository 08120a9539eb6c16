package widget

// Config is everything the banner of one site needs, inlined into the
// site's crumb.js as JSON so that one request renders the banner. The
// consent service builds it from the site's configuration (and, later, the
// site's latest scan); the part of it without API and Banner is the banner's
// content, which the service hashes into Banner and keeps as the immutable
// snapshot that proof-of-consent records refer to.
type Config struct {
	Site string `json:"site"` // site id
	Name string `json:"name"` // the controller's name, shown in the banner
	// API is the base URL the widget posts to, without a trailing slash; ""
	// means the origin crumb.js was loaded from.
	API string `json:"api,omitempty"`
	// Banner is the content hash of this banner (hex), recorded with every
	// decision; set by the service after hashing.
	Banner   string `json:"banner,omitempty"`
	Revision int    `json:"revision"`
	// Validity is how long a choice (consent or refusal) lasts, in seconds.
	Validity         int64                        `json:"validity"`
	PrivacyPolicyURL string                       `json:"privacy_policy_url"`
	Languages        []string                     `json:"languages"` // the first is the default
	Texts            map[string]map[string]string `json:"texts"`     // language → text key → text, fully resolved
	Categories       []Category                   `json:"categories"`
	Theme            Theme                        `json:"theme"` // resolved
	// CookieDomain is the Domain attribute of the consent cookie, for sites
	// spanning subdomains; "" means host-only.
	CookieDomain string `json:"cookie_domain,omitempty"`
	// GPC lists the categories refused when the browser sends Global Privacy
	// Control; empty means GPC is ignored.
	GPC              []string `json:"gpc,omitempty"`
	ReloadOnWithdraw bool     `json:"reload_on_withdraw,omitempty"`
	IconPosition     string   `json:"icon_position"` // "bottom-left" or "bottom-right"
	// NoImpressions stops the banner from posting an impression each time
	// it is shown (the site's count_impressions: false). The zero value
	// counts them, so a banner's JSON, and its hash, change only for a
	// site that turns counting off.
	NoImpressions bool `json:"no_impressions,omitempty"`
}

// Category is one purpose the visitor can grant or refuse. The necessary
// category is Locked: always granted, shown but not toggleable.
type Category struct {
	ID          string            `json:"id"`
	Locked      bool              `json:"locked,omitempty"`
	Name        map[string]string `json:"name"`        // by language
	Description map[string]string `json:"description"` // by language, one line for the first layer
	Cookies     []Cookie          `json:"cookies,omitempty"`
}

// Cookie is one row of a category's cookie table.
type Cookie struct {
	Name string `json:"name"`
	// Pattern marks Name as a pattern where "*" matches any run of
	// characters (e.g. "_ga_*"); the widget uses it to delete cookies on
	// withdrawal.
	Pattern  bool              `json:"pattern,omitempty"`
	Provider string            `json:"provider,omitempty"`
	Purpose  map[string]string `json:"purpose,omitempty"` // by language
	Expiry   map[string]string `json:"expiry,omitempty"`  // lifetime in words, by language: "1 år", "13 months", "session"
	Party    string            `json:"party,omitempty"`   // "first", "third" or "shared" (first party, read by the provider's script)
	Domain   string            `json:"domain,omitempty"`
	Kind     string            `json:"kind,omitempty"` // "cookie" (default), "localStorage", "sessionStorage"
}

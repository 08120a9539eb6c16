// Package scanner holds the vocabulary every part of crumb shares about what a
// website stores on a visitor's device: the items a scan finds (cookies and
// web storage keys), the category each one is classified into, and the scan
// report. It is plain values with no dependencies beyond the standard
// library; crawling lives in scanner/crawl and classification in
// scanner/classify.
package scanner

import (
	"fmt"
	"time"
)

// SchemaVersion is the version of the JSON form of Report. It is raised when
// a field changes meaning or is removed; added fields do not raise it.
const SchemaVersion = 1

// Category is the purpose class of an item. Sites may declare categories of
// their own beyond the three built in; an item nobody could classify is
// Unclassified, never a guess.
type Category string

// The built-in categories.
const (
	Necessary    Category = "necessary"
	Analytics    Category = "analytics"
	Marketing    Category = "marketing"
	Unclassified Category = "unclassified"
)

// Valid reports whether c is a well-formed category id: 1 to 32 characters
// of a-z, 0-9 and underscore, starting with a letter.
func (c Category) Valid() bool {
	if len(c) == 0 || len(c) > 32 || c[0] < 'a' || c[0] > 'z' {
		return false
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_') {
			return false
		}
	}
	return true
}

// Kind says what sort of storage an item lives in.
type Kind string

// The kinds of item a scan records.
const (
	Cookie         Kind = "cookie"
	LocalStorage   Kind = "localStorage"
	SessionStorage Kind = "sessionStorage"
	IndexedDB      Kind = "indexedDB"
)

// Party says whether an item belongs to the scanned site or to another one,
// judged by registrable domain (eTLD+1).
type Party string

// The two parties.
const (
	FirstParty Party = "first"
	ThirdParty Party = "third"
)

// Confidence grades a classification.
type Confidence string

// Confidence levels, from a site owner's explicit word down to a heuristic.
const (
	ConfidenceHigh   Confidence = "high"
	ConfidenceMedium Confidence = "medium"
	ConfidenceLow    Confidence = "low"
	ConfidenceNone   Confidence = "none"
)

// Source says which rule of the classifier produced a verdict, in order of
// precedence.
type Source string

// Classification sources, strongest first.
const (
	SourceOverride  Source = "override"  // the site owner said so
	SourceExact     Source = "exact"     // exact name in the knowledge base
	SourcePattern   Source = "pattern"   // name pattern or prefix in the knowledge base
	SourceDomain    Source = "domain"    // setter or cookie domain is a known tracker
	SourceReleased  Source = "released"  // appeared only once one category was granted
	SourceHeuristic Source = "heuristic" // weak name heuristics
	SourceNone      Source = "none"      // nothing matched: Unclassified
)

// Classification is the verdict on one item, with the reason a person can
// read and check.
type Classification struct {
	Category   Category          `json:"category"`
	Provider   string            `json:"provider,omitempty"`
	Purpose    map[string]string `json:"purpose,omitempty"` // by language: "sv", "en"
	Confidence Confidence        `json:"confidence"`
	Source     Source            `json:"source"`
	Reason     string            `json:"reason"`
	// Rule identifies the knowledge-base entry or rule that matched, for
	// audits; empty for Unclassified.
	Rule string `json:"rule,omitempty"`
	// Justification is set on every Necessary verdict (R32): which consent
	// exemption of the Article 29 Working Party's opinion WP194 (criterion
	// A or B and the cookie type of its section 3) the verdict relies on.
	Justification string `json:"justification,omitempty"`
	// Proposed is a category a weak rule suggests for an Unclassified
	// verdict, for the site owner to confirm with an override: a name
	// heuristic may propose necessary, analytics or marketing and an
	// imported database necessary, but neither decides it (R32). Reason
	// says why.
	Proposed Category `json:"proposed,omitempty"`
}

// Established returns the category the verdict establishes and the one it
// only proposes. A guess from the name (SourceHeuristic) establishes
// nothing: reports classified before name heuristics only proposed
// (category analytics or marketing, confidence low) read as Unclassified
// with that category proposed, so no declaration, banner table or finding
// shows a guess as fact. A nil verdict is Unclassified.
func (c *Classification) Established() (category, proposed Category) {
	switch {
	case c == nil || c.Category == "":
		return Unclassified, ""
	case c.Source == SourceHeuristic && c.Category != Unclassified:
		return Unclassified, c.Category
	}
	return c.Category, c.Proposed
}

// Item is one cookie or storage key found by a scan. Values are never
// recorded, only their length.
type Item struct {
	Kind   Kind   `json:"kind"`
	Name   string `json:"name"`
	Domain string `json:"domain"`           // cookie domain as stored (leading dot for domain cookies), or the storage origin's host
	Origin string `json:"origin,omitempty"` // web storage: the origin (scheme://host[:port])
	Path   string `json:"path,omitempty"`

	Session  bool      `json:"session"`           // expires when the browser closes
	Expires  time.Time `json:"expires,omitzero"`  // stored expiry of a persistent cookie
	Lifetime Duration  `json:"lifetime,omitzero"` // Expires minus the time it was first seen
	Secure   bool      `json:"secure,omitempty"`
	HTTPOnly bool      `json:"http_only,omitempty"`
	SameSite string    `json:"same_site,omitempty"` // Strict, Lax, None or empty
	Size     int       `json:"size"`                // bytes of name plus value
	ValueLen int       `json:"value_length"`

	// RequestedLifetime is the lifetime the setter asked for, when the
	// browser stored less (Chromium caps cookies at 400 days).
	RequestedLifetime Duration `json:"requested_lifetime,omitzero"`

	Party Party `json:"party"`

	// SetBy is the URL of the response whose Set-Cookie header set the item,
	// or of the script that wrote it; SetVia says which ("http", "script",
	// "unknown"; "scanner" for the consent cookie the scanner itself set to
	// grant consent).
	SetBy  string `json:"set_by,omitempty"`
	SetVia string `json:"set_via"`

	FirstPage string   `json:"first_page"`
	Pages     []string `json:"pages,omitempty"`

	// Consent modes in which the item was observed ("none", "accept-all",
	// "grant:analytics", ...). An item seen with "none" was set before
	// consent.
	SeenIn []string `json:"seen_in"`
	// ReleasedBy is the category whose consent released the item: it was
	// not seen without consent, and of the categories granted alone
	// (Report.Granted) only this one's visit saw it. Empty when the scan
	// cannot tell (no such visit, or several released it).
	ReleasedBy Category `json:"released_by,omitempty"`

	Classification *Classification `json:"classification,omitempty"`
}

// PreConsent reports whether the item was present on a visit without any
// consent given.
func (it Item) PreConsent() bool {
	for _, m := range it.SeenIn {
		if m == "none" {
			return true
		}
	}
	return false
}

// Duration is a time.Duration that reads and writes as whole seconds in
// JSON, so reports are stable and readable by other tools.
type Duration time.Duration

// MarshalJSON writes d as a number of seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, "%d", int64(time.Duration(d)/time.Second)), nil
}

// UnmarshalJSON reads a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s int64
	if _, err := fmt.Sscan(string(b), &s); err != nil {
		return fmt.Errorf("duration: want seconds, got %s", b)
	}
	*d = Duration(time.Duration(s) * time.Second)
	return nil
}

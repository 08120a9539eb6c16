package schedule

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/crumbhq/crumb/scanner"
)

// Defaults of a site's scan settings.
const (
	DefaultMaxPages = 50
	DefaultKeep     = 10
)

// DefaultModes are the consent modes a scan visits unless its settings
// say otherwise. A site's configuration adds a grant: mode per category
// (siteconfig), so that a scheduled scan visits with no consent and with
// each category granted (R30).
var DefaultModes = []string{scanner.ModeNone, scanner.ModeAcceptAll}

// ScanSettings are what a worker needs to scan a site; they travel in each
// job's Data, so a worker on another machine needs no site config.
type ScanSettings struct {
	StartURLs []string `json:"start_urls"`
	MaxPages  int      `json:"max_pages"`
	Modes     []string `json:"modes"`
}

// WithDefaults fills in the page limit and modes.
func (s ScanSettings) WithDefaults() ScanSettings {
	if s.MaxPages <= 0 {
		s.MaxPages = DefaultMaxPages
	}
	if len(s.Modes) == 0 {
		s.Modes = slices.Clone(DefaultModes)
	}
	return s
}

// Validate reports settings a scan cannot run with.
func (s ScanSettings) Validate() error {
	if len(s.StartURLs) == 0 {
		return fmt.Errorf("scan settings: no start URL")
	}
	for _, m := range s.Modes {
		if err := scanner.CheckMode(m); err != nil {
			return fmt.Errorf("scan settings: %w", err)
		}
	}
	return nil
}

// Encode returns the settings as job Data.
func (s ScanSettings) Encode() json.RawMessage {
	b, _ := json.Marshal(s) // strings and ints only: cannot fail
	return b
}

// DecodeSettings reads job Data, with defaults filled in.
func DecodeSettings(data json.RawMessage) (ScanSettings, error) {
	var s ScanSettings
	if len(data) > 0 {
		if err := json.Unmarshal(data, &s); err != nil {
			return s, fmt.Errorf("scan settings: %w", err)
		}
	}
	s = s.WithDefaults()
	return s, s.Validate()
}

package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/scandiff"
)

// DefaultScanHistory is how many scans per site are kept when the site
// config does not say.
const DefaultScanHistory = 10

// ScanStore keeps each site's scan history and the site owner's overrides
// for items the classifier got wrong or could not classify; part of Store.
type ScanStore interface {
	// PutScan stores run unless a run with its ID is already stored for
	// run.Site, and then deletes the site's oldest runs beyond keep (at
	// least 1). It returns the run stored under that ID and whether this
	// call created it: a worker that retries a scan job gets back the run
	// of its first try, diff and revision included.
	PutScan(ctx context.Context, run ScanRun, keep int) (stored ScanRun, created bool, err error)
	// Scans returns the site's kept runs, newest first, without their
	// reports. An unknown site has none.
	Scans(ctx context.Context, site string) ([]ScanRun, error)
	// Scan returns one run with its report. ErrNotFound if it is not kept.
	Scan(ctx context.Context, site, id string) (ScanRun, error)
	// LatestScan returns the site's newest run with its report, or
	// ErrNotFound if there is none.
	LatestScan(ctx context.Context, site string) (ScanRun, error)

	// PutOverride stores o for site, replacing any override with the same
	// Key().
	PutOverride(ctx context.Context, site string, o Override) error
	// Overrides returns the site's overrides ordered by Key().
	Overrides(ctx context.Context, site string) ([]Override, error)
	// DeleteOverride removes the override with key. ErrNotFound if none.
	DeleteOverride(ctx context.Context, site, key string) error

	// PutScanSettings stores the site's scan settings set at run time,
	// replacing any stored before.
	PutScanSettings(ctx context.Context, site string, s ScanSettings) error
	// ScanSettings returns the stored settings, or ErrNotFound if none
	// were stored.
	ScanSettings(ctx context.Context, site string) (ScanSettings, error)
}

// ScanSettings are a site's scan settings set through the admin API. Each
// field set overrides the site config's; a zero field keeps it.
type ScanSettings struct {
	Schedule      string    `json:"schedule,omitempty"`
	StartURLs     []string  `json:"start_urls,omitempty"`
	MaxPages      int       `json:"max_pages,omitempty"`
	Modes         []string  `json:"modes,omitempty"`
	Keep          int       `json:"keep,omitempty"`
	RaiseRevision *bool     `json:"raise_revision,omitempty"`
	UpdatedAt     time.Time `json:"updated_at,omitzero"`
}

// ScanRun is one finished scan of a site and what it changed.
type ScanRun struct {
	// ID is the scan job's id ("shop@20261130T030000Z" for a scheduled
	// run), which makes storing it idempotent.
	ID          string    `json:"id"`
	Site        string    `json:"site"`
	Reason      string    `json:"reason"` // "schedule" or "manual"
	ScheduledAt time.Time `json:"scheduled_at"`
	FinishedAt  time.Time `json:"finished_at"`
	// Previous is the ID of the run this one was compared with; "" for the
	// site's first scan.
	Previous string         `json:"previous,omitempty"`
	Diff     *scandiff.Diff `json:"diff,omitempty"`
	// Revision is the site's revision once this scan was taken in; above
	// the one before when RevisionRaised.
	Revision       int  `json:"revision"`
	RevisionRaised bool `json:"revision_raised,omitempty"`
	// Pages, Items, Unclassified and PreConsent summarise the report.
	Pages        int             `json:"pages"`
	Items        int             `json:"items"`
	Unclassified int             `json:"unclassified"`
	PreConsent   int             `json:"pre_consent"`
	Report       *scanner.Report `json:"report,omitempty"`
}

// Summary returns r without its report.
func (r ScanRun) Summary() ScanRun {
	r.Report = nil
	return r
}

// Override is the site owner's word on items the scanner finds: it beats
// every rule of the classifier (precedence: override > knowledge base).
type Override struct {
	// Kind is the storage ("cookie", "localStorage", ...); "" matches all.
	Kind scanner.Kind `json:"kind,omitempty"`
	// Name is the item name; a "*" matches any run of characters
	// ("_hjSession_*").
	Name string `json:"name"`
	// Domain limits the override to items of one cookie domain or storage
	// host; "" matches all.
	Domain   string            `json:"domain,omitempty"`
	Category scanner.Category  `json:"category"`
	Provider string            `json:"provider,omitempty"`
	Purpose  map[string]string `json:"purpose,omitempty"` // by language
	// Justification is required for Necessary (R32): which WP194 exemption
	// applies.
	Justification string    `json:"justification,omitempty"`
	SetAt         time.Time `json:"set_at"`
}

// Key identifies an override within a site: kind, domain and name.
func (o Override) Key() string {
	return strings.Join([]string{string(o.Kind), o.Domain, o.Name}, "|")
}

// Matches reports whether the override applies to it.
func (o Override) Matches(it scanner.Item) bool {
	if o.Kind != "" && o.Kind != it.Kind {
		return false
	}
	if o.Domain != "" && !strings.EqualFold(strings.TrimPrefix(o.Domain, "."), strings.TrimPrefix(it.Domain, ".")) {
		return false
	}
	return matchName(o.Name, it.Name)
}

// matchName matches name against pattern, where "*" matches any run of
// characters.
func matchName(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	return strings.HasSuffix(name, parts[len(parts)-1])
}

// DecodeOverrides decodes stored override JSON values and orders them by
// Key(), for the stores' Overrides.
func DecodeOverrides(vals []string) ([]Override, error) {
	out := make([]Override, 0, len(vals))
	for _, v := range vals {
		var o Override
		if err := json.Unmarshal([]byte(v), &o); err != nil {
			return nil, fmt.Errorf("decode override: %w", err)
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b Override) int { return cmp.Compare(a.Key(), b.Key()) })
	return out, nil
}

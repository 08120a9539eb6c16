// Package classify decides what each cookie and storage key a scan finds is
// for: necessary, analytics, marketing, a category the site defined, or
// Unclassified, always with a provider, a purpose in Swedish and English
// where known, a confidence and the reason a person can check.
//
// The knowledge comes from an embedded knowledge base (knowledge/*.kb,
// written for crumb from vendors' public documentation, each entry with its
// source) and a tracker-domain table (knowledge/trackers.txt), optionally
// extended at run time by more files in crumb's format or the Open Cookie
// Database CSV format. Rules apply in order of precedence: the site owner's
// override, exact name, name pattern, the tracker domain of the cookie or of
// the script that set it, the category whose consent alone released the
// item in the scan, weak name heuristics, and else Unclassified. A wrong
// "necessary" lets a tracker run without consent (R32), so only curated
// knowledge-base entries carrying their WP194 exemption, or the site
// owner's override, yield it. Imported Open Cookie Database
// Functional/Security rows only propose necessary, and name heuristics
// only propose a category (necessary, analytics or marketing): a guess is
// never shown as fact, the item stays Unclassified with the proposal
// (Classification.Proposed and the reason) for the site owner to confirm.
//
// A vendor's generic names (Shopify's cart and _s) are the vendor's only
// with evidence: the item's domain or setter is the vendor's, or, for
// entries that allow it, the scan of the whole site shows it runs on the
// vendor (Site, which ClassifyReport derives from the report).
package classify

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/crumbhq/crumb/scanner"
)

//go:embed knowledge/*.kb knowledge/trackers.txt
var knowledge embed.FS

// ErrJustification is returned for an override that says necessary without
// a justification (R32).
var ErrJustification = errors.New("a necessary override needs a justification naming its WP194 exemption")

// Options configures a Classifier.
type Options struct {
	// ExtraDB lists files of more entries, in crumb's knowledge-base format
	// or the Open Cookie Database CSV format (detected by its header). They
	// add to the embedded knowledge; for the same name the embedded entry
	// wins (use Overrides to change a verdict).
	ExtraDB []string
	// Overrides are the site owner's own verdicts; they beat every rule.
	Overrides []Override
}

// Override is a site owner's verdict on a name.
type Override struct {
	Name     string            `json:"name"`             // exact name or pattern (see Entry.Name)
	Domain   string            `json:"domain,omitempty"` // optional: only items on or set by this domain
	Kind     scanner.Kind      `json:"kind,omitempty"`   // optional
	Category scanner.Category  `json:"category"`
	Provider string            `json:"provider,omitempty"`
	Purpose  map[string]string `json:"purpose,omitempty"`
	// Justification is required when Category is necessary: the WP194
	// exemption the site owner relies on.
	Justification string `json:"justification,omitempty"`
}

// Query describes one item to classify.
type Query struct {
	Name       string
	Kind       scanner.Kind  // "" for any
	Domain     string        // cookie domain (leading dot allowed) or storage host
	SetBy      string        // URL of the response or script that set it
	Party      scanner.Party // "" to derive it from Domain and SiteDomain
	Session    bool          // a session cookie (or sessionStorage)
	SiteDomain string        // the scanned site's registrable domain
	// ReleasedBy is the category whose consent alone released the item in
	// a scan (scanner.Item.ReleasedBy); it classifies an item no knowledge
	// covers.
	ReleasedBy scanner.Category
	// Site is what the scan shows about the whole site (SiteOf), such as
	// that it runs on Shopify; the zero value is no evidence.
	Site Site
}

// Classifier classifies items. It is read-only after New and safe for
// concurrent use.
type Classifier struct {
	overrides *index
	kb        *index
	trackers  trackerTable
	entries   []*Entry
}

// New builds a Classifier from the embedded knowledge, opts.ExtraDB and
// opts.Overrides. Errors name the file and line, or the override.
func New(opts Options) (*Classifier, error) {
	c := &Classifier{overrides: newIndex(), kb: newIndex()}
	files, err := fs.Glob(knowledge, "knowledge/*.kb")
	if err != nil {
		return nil, fmt.Errorf("knowledge base: %w", err)
	}
	for _, name := range files {
		f, err := knowledge.Open(name)
		if err != nil {
			return nil, fmt.Errorf("knowledge base: %w", err)
		}
		entries, err := parseKB(path.Base(name), f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("knowledge base: %w", err)
		}
		c.entries = append(c.entries, entries...)
	}
	for _, file := range opts.ExtraDB {
		entries, err := loadDB(file)
		if err != nil {
			return nil, err
		}
		c.entries = append(c.entries, entries...)
	}
	c.kb.add(c.entries)
	f, err := knowledge.Open("knowledge/trackers.txt")
	if err != nil {
		return nil, fmt.Errorf("tracker domains: %w", err)
	}
	defer f.Close()
	trackers, err := parseTrackers("trackers.txt", f)
	if err != nil {
		return nil, fmt.Errorf("tracker domains: %w", err)
	}
	c.trackers = newTrackerTable(trackers)
	ov, err := overrideEntries(opts.Overrides)
	if err != nil {
		return nil, err
	}
	c.overrides.add(ov)
	return c, nil
}

// Entries returns the knowledge the classifier holds (embedded and extra),
// in load order. The entries must not be modified.
func (c *Classifier) Entries() []*Entry { return c.entries }

// Trackers returns the number of tracker domains known.
func (c *Classifier) Trackers() int { return len(c.trackers) }

func overrideEntries(ovs []Override) ([]*Entry, error) {
	var out []*Entry
	for i, o := range ovs {
		at := fmt.Sprintf("override %d (%q)", i+1, o.Name)
		if o.Name == "" {
			return nil, fmt.Errorf("%s: name required", at)
		}
		if !o.Category.Valid() {
			return nil, fmt.Errorf("%s: category %q is not a category id", at, o.Category)
		}
		if o.Category == scanner.Necessary && o.Justification == "" {
			return nil, fmt.Errorf("%s: %w", at, ErrJustification)
		}
		e := &Entry{
			Name: o.Name, Kind: o.Kind, Provider: o.Provider, Category: o.Category,
			Purpose: o.Purpose, Justification: o.Justification,
			Origin: at, Confidence: scanner.ConfidenceHigh,
		}
		if o.Domain != "" {
			e.Domains = []string{normHost(o.Domain)}
		}
		if err := e.compile(); err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Package siteconfig reads crumb's per-site configuration: a YAML file that
// declares each website using the consent service, with its origins,
// languages, categories and cookie tables, texts, theme, revision and how
// long choices and proofs are kept. Load fills in defaults, checks every
// field and reports all problems at once, each naming the file, the site
// and the field.
package siteconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/crumbhq/crumb/widget"
	"go.yaml.in/yaml/v3"
)

// Defaults applied to a site that does not set the field.
const (
	DefaultValidity     = Duration(6 * Month)  // R27
	DefaultRetention    = Duration(12 * Month) // R25
	DefaultRevision     = 1
	DefaultIconPosition = "bottom-left"
	// DefaultCountImpressions: the banner counts its impressions only if
	// the site sets count_impressions: true; by default a page where the
	// visitor has not chosen makes no request for statistics (R1).
	DefaultCountImpressions = false
)

// DefaultCategories are the categories of a site that lists none.
var DefaultCategories = []string{"necessary", "analytics", "marketing"}

// DefaultGPC are the categories a Global Privacy Control signal refuses on
// a site that does not set gpc (R42).
var DefaultGPC = []string{"marketing"}

// Config is a loaded, validated site configuration.
type Config struct {
	Path  string // the file it was read from, for messages
	Sites []Site `yaml:"sites"`
}

// Site is one website using the consent service.
type Site struct {
	ID   string `yaml:"id"`   // [a-z0-9][a-z0-9-]{0,62}, used in URLs and store keys
	Name string `yaml:"name"` // the controller's name, shown in the banner
	// Origins are the scheme://host[:port] the banner may call the API from.
	Origins []string `yaml:"origins"`
	// API is the base URL the widget posts to; "" means the origin crumb.js
	// was loaded from.
	API              string   `yaml:"api"`
	PrivacyPolicyURL string   `yaml:"privacy_policy_url"`
	Languages        []string `yaml:"languages"` // the first is the default
	// Revision is raised on every change to categories, cookies or
	// wording (R26); visitors who answered an older revision are asked again.
	Revision  int      `yaml:"revision"`
	Validity  Duration `yaml:"validity"`  // how long a choice lasts
	Retention Duration `yaml:"retention"` // how long proof of consent is kept
	// CookieDomain is the Domain of the consent cookie; "" means host-only.
	CookieDomain     string                       `yaml:"cookie_domain"`
	GPC              []string                     `yaml:"gpc"`
	ReloadOnWithdraw bool                         `yaml:"reload_on_withdraw"`
	IconPosition     string                       `yaml:"icon_position"`
	Theme            widget.Theme                 `yaml:"theme"`
	Texts            map[string]map[string]string `yaml:"texts"` // language → text key → text
	Categories       []Category                   `yaml:"categories"`
	// Scan says when and how the site is rescanned (scan.go).
	Scan Scan `yaml:"scan"`
	// CountImpressions makes the banner post an impression, with no
	// identifier, each time it is shown, for the interaction rate; nil
	// (not set) means DefaultCountImpressions. See configs/crumb.yaml.
	CountImpressions *bool `yaml:"count_impressions"`
}

// Category is one purpose a visitor can grant or refuse.
type Category struct {
	ID          string            `yaml:"id"`
	Name        map[string]string `yaml:"name"`        // by language; built-in categories default to the texts
	Description map[string]string `yaml:"description"` // by language
	Cookies     []Cookie          `yaml:"cookies"`
}

// Cookie is one row of a category's cookie table.
type Cookie struct {
	Name     string            `yaml:"name"` // "*" makes it a pattern: "_ga_*"
	Provider string            `yaml:"provider"`
	Purpose  map[string]string `yaml:"purpose"` // by language, required for every site language
	Expiry   map[string]string `yaml:"expiry"`  // by language, in words: "2 år", "2 years"
	Party    string            `yaml:"party"`   // "first", "third" or "shared" (first party, read by the provider)
	Domain   string            `yaml:"domain"`
	Kind     string            `yaml:"kind"` // "cookie" (default), "localStorage" or "sessionStorage"
	// Justification is the WP194 exemption (R32) a row under necessary
	// relies on when crumb's knowledge base knows the name as a cookie of
	// another category (_ga under necessary), as an override of that
	// verdict needs; Load refuses such a row without it.
	Justification string `yaml:"justification"`
}

// Site returns the site with the given id.
func (c *Config) Site(id string) (*Site, bool) {
	for i := range c.Sites {
		if c.Sites[i].ID == id {
			return &c.Sites[i], true
		}
	}
	return nil, false
}

// CategoryIDs returns the ids of the site's categories in order.
func (s *Site) CategoryIDs() []string {
	ids := make([]string, len(s.Categories))
	for i, c := range s.Categories {
		ids[i] = c.ID
	}
	return ids
}

// Load reads, completes and validates the configuration at path. A
// configuration with problems returns an *Error listing all of them.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read site config: %w", err)
	}
	return Parse(filepath.Base(path), data)
}

// Parse is Load for data already read; name is used in messages.
func Parse(name string, data []byte) (*Config, error) {
	cfg := &Config{Path: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Problems: []Problem{{File: name, Message: "the file is empty; it must list at least one site under sites:"}}}
		}
		return nil, yamlError(name, data, err)
	}
	cfg.Path = name
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// necessary is added after validation so that problems name the
	// categories by their index in the file.
	for i := range cfg.Sites {
		if s := &cfg.Sites[i]; !hasCategory(s.Categories, "necessary") {
			s.Categories = append([]Category{{ID: "necessary"}}, s.Categories...)
		}
		addOwnStorage(&cfg.Sites[i])
	}
	return cfg, nil
}

func (c *Config) applyDefaults() {
	for i := range c.Sites {
		s := &c.Sites[i]
		if s.Languages == nil {
			s.Languages = append([]string(nil), widget.Languages...)
		}
		if s.Revision == 0 {
			s.Revision = DefaultRevision
		}
		if s.Validity == 0 {
			s.Validity = DefaultValidity
		}
		if s.Retention == 0 {
			s.Retention = DefaultRetention
		}
		if s.IconPosition == "" {
			s.IconPosition = DefaultIconPosition
		}
		if s.GPC == nil {
			s.GPC = append([]string(nil), DefaultGPC...)
		}
		if s.CountImpressions == nil {
			v := DefaultCountImpressions
			s.CountImpressions = &v
		}
		if s.Categories == nil {
			for _, id := range DefaultCategories {
				s.Categories = append(s.Categories, Category{ID: id})
			}
		}
		for j := range s.Origins {
			s.Origins[j] = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s.Origins[j])), "/")
		}
	}
}

func hasCategory(cs []Category, id string) bool {
	for _, c := range cs {
		if c.ID == id {
			return true
		}
	}
	return false
}

// Problem is one thing wrong with the configuration.
type Problem struct {
	File    string
	Site    string // "" for problems outside a site
	Field   string // dotted path within the site, e.g. "categories[1].cookies[0].purpose.sv"
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Site != "" {
		fmt.Fprintf(&b, ": site %q", p.Site)
	}
	if p.Field != "" {
		b.WriteString(": " + p.Field)
	}
	b.WriteString(": " + p.Message)
	return b.String()
}

// ErrInvalid is wrapped by every *Error.
var ErrInvalid = errors.New("invalid site configuration")

// Error lists every problem found in a configuration.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

package siteconfig

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/crumbhq/crumb/consentapi/schedule"
	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/scanner"
)

// Scan is a site's scan settings (issue 6): when crumb rescans the site to
// keep its cookie tables true, where it starts, and what it does with the
// result. Every field is optional.
type Scan struct {
	// Schedule: "weekly" (default), "daily", a Go duration ("36h"), a
	// five-field cron expression in UTC ("0 3 * * 1"), or "off".
	Schedule string `yaml:"schedule"`
	// StartURLs are where the crawl starts; default the site's first
	// origin.
	StartURLs []string `yaml:"start_urls"`
	// MaxPages bounds the pages visited per consent mode; default 50.
	MaxPages int `yaml:"max_pages"`
	// Modes are the consent modes visited: "none", "accept-all" and
	// "grant:<category>" for each category of the site to grant alone.
	// The default is none, accept-all and a grant: mode for every category
	// of the site but necessary (R30: with no consent and with each
	// category granted). A grant: mode attributes what it finds to its
	// category on sites running crumb's widget.
	Modes []string `yaml:"modes"`
	// Keep is how many scans are kept per site; default 10.
	Keep int `yaml:"keep"`
	// RaiseRevision raises the site's revision when the banner widens
	// what visitors are asked to consent to, so they are asked again
	// (R26): a scan, an override or a changed configuration that brings a
	// new consent category or a new provider of non-necessary rows.
	// Default true; false keeps the revision and logs a warning.
	RaiseRevision *bool `yaml:"raise_revision"`
	// Webhook is where crumb posts what each scan changed.
	Webhook Webhook `yaml:"webhook"`
}

// Webhook is a site owner's endpoint for scan events.
type Webhook struct {
	URL string `yaml:"url"`
	// SecretEnv names the environment variable holding the HMAC secret
	// that signs each event (never the secret itself in this file).
	SecretEnv string `yaml:"secret_env"`
}

var envNamePattern = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// ScanSchedule returns the parsed schedule (valid after Load).
func (s *Site) ScanSchedule() schedule.Schedule {
	sc, _ := schedule.Parse(s.Scan.Schedule)
	return sc
}

// ScanSettings returns what a worker needs to scan the site, defaults
// filled in.
func (s *Site) ScanSettings() schedule.ScanSettings {
	st := schedule.ScanSettings{StartURLs: s.Scan.StartURLs, MaxPages: s.Scan.MaxPages, Modes: s.Scan.Modes}
	if len(st.Modes) == 0 {
		st.Modes = slices.Clone(schedule.DefaultModes)
		for _, c := range s.Categories {
			if c.ID != "necessary" {
				st.Modes = append(st.Modes, scanner.GrantMode(scanner.Category(c.ID)))
			}
		}
	}
	if len(st.StartURLs) == 0 && len(s.Origins) > 0 {
		st.StartURLs = []string{s.Origins[0] + "/"}
	}
	return st.WithDefaults()
}

// ScanResults returns the site's settings for taking scans in; the
// webhook secret is read by the caller from Scan.Webhook.SecretEnv.
func (s *Site) ScanResults(secret []byte) schedule.SiteResults {
	raise := s.Scan.RaiseRevision == nil || *s.Scan.RaiseRevision
	return schedule.SiteResults{
		Revision: s.Revision, RaiseRevision: raise, Keep: s.Scan.Keep,
		WebhookURL: s.Scan.Webhook.URL, WebhookSecret: secret,
	}
}

func (c *checker) scan(s *Site) {
	if _, err := schedule.Parse(s.Scan.Schedule); err != nil {
		c.addf("scan.schedule", "%v", err)
	}
	for i, u := range s.Scan.StartURLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			c.addf("scan.start_urls", "#%d %q: want an absolute http(s) URL", i+1, u)
		}
	}
	if len(s.Scan.StartURLs) == 0 && len(s.Origins) == 0 {
		c.addf("scan.start_urls", "missing: no origins to start from either")
	}
	if s.Scan.MaxPages < 0 || s.Scan.MaxPages > 10000 {
		c.addf("scan.max_pages", "%d: want 1 to 10000 (0 for the default 50)", s.Scan.MaxPages)
	}
	seen := map[string]bool{}
	for _, m := range s.Scan.Modes {
		if err := scanner.CheckMode(m); err != nil {
			c.addf("scan.modes", "%v", err)
		} else if cat, ok := scanner.GrantedCategory(m); ok && !slices.Contains(s.CategoryIDs(), string(cat)) {
			c.addf("scan.modes", "%q: the site has no category %q (its categories: %s)", m, cat, strings.Join(s.CategoryIDs(), ", "))
		}
		if seen[m] {
			c.addf("scan.modes", "%q is listed twice", m)
		}
		seen[m] = true
	}
	if s.Scan.Keep < 0 || s.Scan.Keep > 1000 {
		c.addf("scan.keep", "%d: want 1 to 1000 (0 for the default 10)", s.Scan.Keep)
	}
	w := s.Scan.Webhook
	if w.URL != "" {
		if p, err := url.Parse(w.URL); err != nil || (p.Scheme != "https" && !(p.Scheme == "http" && isLoopback(p.Hostname()))) || p.Host == "" {
			c.addf("scan.webhook.url", "%q: want an https URL (http only for localhost)", w.URL)
		}
		if !envNamePattern.MatchString(w.SecretEnv) {
			c.addf("scan.webhook.secret_env", "%q: want the name of the environment variable holding the signing secret", w.SecretEnv)
		}
	}
	if w.URL == "" && w.SecretEnv != "" {
		c.addf("scan.webhook.url", "missing: secret_env is set but no url")
	}
}

// WithScanSettings returns a copy of the site whose scan settings are
// overlaid, field by field, with those stored through the admin API.
func (s Site) WithScanSettings(o store.ScanSettings) Site {
	sc := s.Scan
	if o.Schedule != "" {
		sc.Schedule = o.Schedule
	}
	if len(o.StartURLs) > 0 {
		sc.StartURLs = o.StartURLs
	}
	if o.MaxPages != 0 {
		sc.MaxPages = o.MaxPages
	}
	if len(o.Modes) > 0 {
		sc.Modes = o.Modes
	}
	if o.Keep != 0 {
		sc.Keep = o.Keep
	}
	if o.RaiseRevision != nil {
		sc.RaiseRevision = o.RaiseRevision
	}
	s.Scan = sc
	return s
}

// CheckScan reports what is wrong with the site's scan settings as an
// *Error listing every problem, or nil.
func (s *Site) CheckScan(file string) error {
	c := &checker{file: file, site: s.ID}
	c.scan(s)
	if len(c.problems) > 0 {
		return &Error{Problems: c.problems}
	}
	return nil
}

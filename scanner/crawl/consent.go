package crawl

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
)

// Granting consent in accept-all mode. Sites with crumb's own widget get
// its consent cookie set directly, so the scanner never posts a consent
// record to the site's proof-of-consent log; any other banner gets its
// "accept all" control clicked (js/accept.js).

// crumbCookie is the name of crumb's consent cookie.
const crumbCookie = "crumb_consent"

// isCrumbScript reports whether a script URL is crumb's widget
// (/v1/sites/{site}/crumb.js, or any crumb.js behind a proxy).
func isCrumbScript(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && strings.HasSuffix(u.Path, "/crumb.js")
}

// crumbConfig is the part of the widget's inlined configuration
// (widget.Config's JSON) the scanner needs.
type crumbConfig struct {
	Site       string `json:"site"`
	Revision   int    `json:"revision"`
	Validity   int64  `json:"validity"`
	Categories []struct {
		ID     string `json:"id"`
		Locked bool   `json:"locked"`
	} `json:"categories"`
	CookieDomain string `json:"cookie_domain"`
}

// siteRE finds where the inlined configuration may start: as JSON, or
// inside a JavaScript string (as crumb's widget inlines it, for JSON.parse).
var siteRE = regexp.MustCompile(`\{\s*(?:"|\\")site(?:"|\\")\s*:`)

// findCrumbConfig finds the widget configuration inlined in crumb.js: the
// first JSON object starting with its "site" field that decodes, whether
// written as JSON or as a double-quoted string literal holding JSON.
func findCrumbConfig(js string) (crumbConfig, bool) {
	for _, loc := range siteRE.FindAllStringIndex(js, 8) {
		text := js[loc[0]:]
		if strings.HasPrefix(text, `{\`) {
			// A string literal: the widget escapes only what JSON escapes, so
			// the literal decodes as a JSON string.
			if loc[0] == 0 || js[loc[0]-1] != '"' {
				continue
			}
			var lit string
			if json.NewDecoder(strings.NewReader(js[loc[0]-1:])).Decode(&lit) != nil {
				continue
			}
			text = lit
		}
		var cfg crumbConfig
		if json.NewDecoder(strings.NewReader(text)).Decode(&cfg) == nil && cfg.Site != "" {
			return cfg, true
		}
	}
	return crumbConfig{}, false
}

// granted returns the category ids an accept-all visitor grants: every
// category of the site but the locked (necessary) one, in crumb's cookie
// form ("analytics+marketing").
func (c crumbConfig) granted() string {
	var ids []string
	for _, cat := range c.Categories {
		if !cat.Locked && cat.ID != "necessary" && cat.ID != "" {
			ids = append(ids, cat.ID)
		}
	}
	if len(ids) == 0 {
		ids = []string{"analytics", "marketing"}
	}
	return strings.Join(slices.Compact(ids), "+")
}

// cookieValue is crumb's consent cookie for an accept-all decision now:
// 1.<consent id>.<revision>.<granted>.<unix seconds>.
func (c crumbConfig) cookieValue(id string, now time.Time) string {
	return fmt.Sprintf("1.%s.%d.%s.%d", id, c.Revision, c.granted(), now.Unix())
}

// grantCrumb sets crumb's consent cookie if the page loaded crumb's widget,
// and reloads the page so the widget sees it. It returns what it did, or ""
// when the page has no crumb widget.
func (v *pageVisit) grantCrumb(ctx context.Context) (string, error) {
	v.rec.mu.Lock()
	scripts := slices.Clone(v.rec.scripts)
	v.rec.mu.Unlock()
	for _, sc := range scripts {
		body, err := send(ctx, sc.session, network.GetResponseBody, network.GetResponseBodyParams{RequestID: sc.id})
		if err != nil {
			continue
		}
		cfg, ok := findCrumbConfig(string(body.Body))
		if !ok {
			continue
		}
		if err := v.setCrumbCookie(ctx, cfg); err != nil {
			return "", err
		}
		if _, err := send(ctx, v.t, page.Reload, page.ReloadParams{}); err != nil {
			return "", fmt.Errorf("reload after consent: %w", err)
		}
		return fmt.Sprintf("accept-all: set crumb's consent cookie for site %q, revision %d, granting %s (from %s)", cfg.Site, cfg.Revision, cfg.granted(), sc.url), nil
	}
	return "", nil
}

func (v *pageVisit) setCrumbCookie(ctx context.Context, cfg crumbConfig) error {
	now := v.run.opts.Now()
	validity := time.Duration(cfg.Validity) * time.Second
	if validity <= 0 {
		validity = 365 * 24 * time.Hour
	}
	u, err := url.Parse(v.rec.document().url)
	if err != nil || u.Host == "" {
		u = v.run.start
	}
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	id := base64.RawURLEncoding.EncodeToString(raw)
	value := cfg.cookieValue(id, now)
	p := network.SetCookieParams{
		Name: crumbCookie, Value: value, URL: u.Scheme + "://" + u.Host + "/", Path: "/",
		Secure: new(u.Scheme == "https"), SameSite: network.CookieSameSiteLax,
		Expires: cdp.TimeSinceEpoch(now.Add(validity).Unix()),
	}
	// As the widget does: the configured cookie domain only where the page's
	// host lies within it (a staging host or a local copy of the site keeps
	// a host-only cookie the widget there can read).
	domain := strings.TrimPrefix(cfg.CookieDomain, ".")
	if domain != "" && !strings.HasSuffix("."+u.Hostname(), "."+domain) {
		domain = ""
	}
	if domain != "" {
		p.Domain = domain
	}
	if _, err := send(ctx, v.t, network.SetCookie, p); err != nil {
		return fmt.Errorf("set consent cookie: %w", err)
	}
	w := cookieWrite{name: crumbCookie, domain: domain, host: u.Hostname(),
		valueLen: len(value), requested: validity, via: viaScanner, page: v.url, at: now}
	v.rec.mu.Lock()
	v.rec.writes = append(v.rec.writes, w)
	v.rec.mu.Unlock()
	return nil
}

// acceptResult is what accept.js reports after a click.
type acceptResult struct {
	How  string `json:"how"`
	What string `json:"what"`
	Text string `json:"text"`
}

// clickAccept clicks an "accept all" control in the page or in one of its
// cross-site iframes, and returns what it clicked, or "".
func (v *pageVisit) clickAccept(ctx context.Context) string {
	targets := []struct {
		s     caller
		frame cdp.FrameID
	}{{v.t, v.rec.mainFrame}}
	for _, c := range v.run.b.l.mux.childrenOf(v.t.SessionID) {
		if c.info.Type == "iframe" {
			targets = append(targets, struct {
				s     caller
				frame cdp.FrameID
			}{c, cdp.FrameID(c.info.TargetID)})
		}
	}
	for _, t := range targets {
		res, err := evalIn[*acceptResult](ctx, t.s, t.frame, acceptJS)
		if err == nil && res != nil {
			return fmt.Sprintf("accept-all: clicked %q (%s %s) on %s", res.Text, res.How, res.What, v.url)
		}
	}
	return ""
}

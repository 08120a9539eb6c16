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

	"github.com/crumbhq/crumb/scanner"
)

// Granting consent in accept-all and grant:<category> modes. Sites with
// crumb's own widget get its consent cookie set directly, so the scanner
// never posts a consent record to the site's proof-of-consent log; in
// accept-all mode any other banner gets its "accept all" control clicked
// (js/accept.js). Granting one category alone needs crumb's widget or a
// consent platform whose JavaScript API can grant one category
// (js/grant.js: Cookiebot, OneTrust, CookieScript, vanilla-cookieconsent);
// other banners' per-category controls are not clicked.

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

// grants reports whether a visitor can grant category id alone: the site
// lists it and it is not locked (necessary is granted anyway).
func (c crumbConfig) grants(id scanner.Category) bool {
	for _, cat := range c.Categories {
		if cat.ID == string(id) && !cat.Locked && cat.ID != "necessary" {
			return true
		}
	}
	return false
}

// cookieValue is crumb's consent cookie for a decision now granting the
// category ids in crumb's cookie form ("analytics+marketing"):
// 1.<consent id>.<revision>.<granted>.<unix seconds>.
func (c crumbConfig) cookieValue(id, granted string, now time.Time) string {
	return fmt.Sprintf("1.%s.%d.%s.%d", id, c.Revision, granted, now.Unix())
}

// grantCrumb sets crumb's consent cookie if the page loaded crumb's widget,
// and reloads the page so the widget sees it. The cookie grants every
// category (accept-all) when only is empty, else necessary and only. It
// returns what it did, or "" when the page has no crumb widget; ok reports
// whether it set the cookie (a site without category only gets a note and
// no cookie).
func (v *pageVisit) grantCrumb(ctx context.Context, only scanner.Category) (note string, ok bool, err error) {
	v.rec.mu.Lock()
	scripts := slices.Clone(v.rec.scripts)
	v.rec.mu.Unlock()
	for _, sc := range scripts {
		body, err := send(ctx, sc.session, network.GetResponseBody, network.GetResponseBodyParams{RequestID: sc.id})
		if err != nil {
			continue
		}
		cfg, found := findCrumbConfig(string(body.Body))
		if !found {
			continue
		}
		granted, mode := cfg.granted(), scanner.ModeAcceptAll
		if only != "" {
			mode = scanner.GrantMode(only)
			if !cfg.grants(only) {
				return fmt.Sprintf("%s: crumb's widget for site %q has no category %q a visitor can grant; nothing granted (from %s)", mode, cfg.Site, only, sc.url), false, nil
			}
			granted = string(only)
		}
		if err := v.setCrumbCookie(ctx, cfg, granted); err != nil {
			return "", false, err
		}
		if _, err := send(ctx, v.t, page.Reload, page.ReloadParams{}); err != nil {
			return "", false, fmt.Errorf("reload after consent: %w", err)
		}
		return fmt.Sprintf("%s: set crumb's consent cookie for site %q, revision %d, granting %s (from %s)", mode, cfg.Site, cfg.Revision, granted, sc.url), true, nil
	}
	return "", false, nil
}

func (v *pageVisit) setCrumbCookie(ctx context.Context, cfg crumbConfig, granted string) error {
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
	value := cfg.cookieValue(id, granted, now)
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

// cmpGrant is what grant.js reports.
type cmpGrant struct {
	CMP     string `json:"cmp"`
	Call    string `json:"call"`
	Granted bool   `json:"granted"`
}

// grantCMP grants only through the page's consent platform's own API and
// reloads the page so that its tags start with the new consent. ok
// reports whether the platform then said the category was granted; the
// note says what was called either way, or is "" when the page has no
// platform grant.js knows.
func (v *pageVisit) grantCMP(ctx context.Context, only scanner.Category) (note string, ok bool, err error) {
	res, err := evalMain[*cmpGrant](ctx, v.t, grantScript(only))
	if err != nil || res == nil {
		// A page without a known platform, or one whose API threw: nothing
		// granted, and the next page may try again.
		return "", false, nil
	}
	mode := scanner.GrantMode(only)
	if !res.Granted {
		// No page URL: the note is the same on every page that tries.
		return fmt.Sprintf("%s: called %s, but %s does not report %q as granted; nothing granted", mode, res.Call, res.CMP, only), false, nil
	}
	if _, err := send(ctx, v.t, page.Reload, page.ReloadParams{}); err != nil {
		return "", false, fmt.Errorf("reload after consent: %w", err)
	}
	return fmt.Sprintf("%s: granted through %s's API: %s (on %s)", mode, res.CMP, res.Call, v.url), true, nil
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

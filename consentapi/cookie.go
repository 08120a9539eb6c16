package consentapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/crumbhq/crumb/consentapi/store"
)

// CookieName is the first-party consent cookie the service sets when the
// API is reached through the site's own origin.
const CookieName = "crumb_consent"

// cookieValue is 1.<consent id>.<revision>.<granted categories joined by
// "+", or "-">.<unix seconds of the decision>; necessary is implied.
func cookieValue(r store.Record, order []string) string {
	var granted []string
	for _, id := range order {
		if id != "necessary" && r.Categories[id] {
			granted = append(granted, id)
		}
	}
	g := strings.Join(granted, "+")
	if g == "" {
		g = "-"
	}
	return "1." + r.ConsentID + "." + strconv.Itoa(r.Revision) + "." + g + "." + strconv.FormatInt(r.RecordedAt.Unix(), 10)
}

// consentCookie returns the cookie for a decision answered on the site's
// own origin; maxAge 0 or less deletes it.
func (si *site) consentCookie(value, origin, host string, maxAge int) *http.Cookie {
	c := &http.Cookie{
		Name:     CookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge <= 0 {
		c.MaxAge = -1
	}
	if u, err := url.Parse(origin); err == nil && u.Scheme == "https" {
		c.Secure = true
	}
	// The Domain only when this host is within it: a browser drops a cookie
	// for another domain (e.g. on localhost during development).
	if d := strings.TrimPrefix(si.cfg.CookieDomain, "."); d != "" {
		h := hostOnly(host)
		if h == d || strings.HasSuffix(h, "."+d) {
			c.Domain = d
		}
	}
	return c
}

// hostOnly strips the port from a Host header.
func hostOnly(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		return host[:i]
	}
	return host
}

package crawl

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/crumbhq/crumb/scanner"
)

// How a cookie or storage key got written, for scanner.Item.SetVia.
const (
	viaHTTP    = "http"    // a Set-Cookie response header
	viaScript  = "script"  // document.cookie, cookieStore or Storage.setItem
	viaScanner = "scanner" // the scanner itself, granting consent
	viaUnknown = "unknown" // in the browser, but no write was seen
)

// cookieWrite is one attempt to store a cookie, from a Set-Cookie header or
// a script. Values are never kept, only their length.
type cookieWrite struct {
	name      string
	domain    string // the Domain attribute, lower case without a leading dot; "" for a host-only cookie
	host      string // host of the response, or of the writing document
	valueLen  int
	requested time.Duration // requested lifetime; 0 for a session cookie
	deletes   bool          // an expiry in the past or Max-Age <= 0
	via       string
	setBy     string
	page      string
	at        time.Time
}

// parseCookieWrite reads a Set-Cookie line (or a document.cookie string,
// which has the same form) written at time at by a response or document on
// host.
func parseCookieWrite(line, host string, at time.Time) (cookieWrite, bool) {
	w := cookieWrite{host: strings.ToLower(host), at: at}
	pair, attrs, _ := strings.Cut(line, ";")
	name, value, hasEq := strings.Cut(pair, "=")
	if !hasEq {
		name, value = "", name
	}
	w.name, w.valueLen = strings.TrimSpace(name), len(strings.TrimSpace(value))
	if w.name == "" && w.valueLen == 0 {
		return w, false
	}
	// net/http parses the attributes; it wants a value-free, valid pair.
	c, err := http.ParseSetCookie("x=" + attributesOnly(attrs))
	if err != nil {
		return w, true
	}
	w.domain = strings.TrimPrefix(strings.ToLower(c.Domain), ".")
	switch {
	case c.MaxAge > 0:
		w.requested = time.Duration(c.MaxAge) * time.Second
	case c.MaxAge < 0:
		w.deletes = true
	case !c.Expires.IsZero():
		if w.requested = c.Expires.Sub(at); w.requested <= 0 {
			w.deletes, w.requested = true, 0
		}
	}
	return w, true
}

func attributesOnly(attrs string) string {
	if attrs == "" {
		return ""
	}
	return ";" + attrs
}

// matches reports whether the write stored the jar cookie c.
func (w cookieWrite) matches(c *network.Cookie) bool {
	if w.name != c.Name || w.deletes {
		return false
	}
	d := strings.TrimPrefix(strings.ToLower(c.Domain), ".")
	if w.domain != "" {
		return d == w.domain
	}
	return d == w.host
}

// hostOf returns the lower-case host of a URL, or "".
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// party says whether a host is the site's.
func party(host, site string) scanner.Party {
	if onSite(host, site) {
		return scanner.FirstParty
	}
	return scanner.ThirdParty
}

// cookieKey identifies a cookie in the jar.
func cookieKey(c *network.Cookie) string {
	return "cookie\x00" + c.Name + "\x00" + c.Domain + "\x00" + c.Path
}

// expiry returns a jar cookie's stored expiry, zero for a session cookie.
func expiry(c *network.Cookie) time.Time {
	if c.Session || c.Expires <= 0 {
		return time.Time{}
	}
	sec := int64(c.Expires)
	return time.Unix(sec, int64((c.Expires-float64(sec))*1e9)).UTC()
}

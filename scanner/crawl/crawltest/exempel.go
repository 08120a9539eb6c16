package crawltest

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
)

//go:embed testdata/exempel
var exempelFS embed.FS

var pageTmpl = template.Must(template.ParseFS(exempelFS, "testdata/exempel/page.html"))

// ExempelHosts are the host names of the Exempel fixture.
var ExempelHosts = []string{
	"www.exempel.se", "www.googletagmanager.com", "www.google-analytics.com", "ad.doubleclick.net",
	"www.youtube.com", "cdn.cookielaw.org", "connect.facebook.net", "www.facebook.com",
	"cdn.segment.com", "static.hotjar.com", "www.clarity.ms", "analytics.tiktok.com",
}

// exempelPage is one HTML page of www.exempel.se.
type exempelPage struct {
	Title   string
	Home    bool     // the start page: ad pixel, YouTube iframe, tag loaded on scroll
	Links   []string // links besides the navigation
	Scripts []string // tags besides the ones on every page
}

// exempelPages are the pages of www.exempel.se. /a/b/c is reachable only
// through /a and /a/b; /kampanj is listed only in the sitemap index named
// by robots.txt, /nyheter only in /sitemap.xml.
var exempelPages = map[string]exempelPage{
	"/":          {Title: "Välkommen", Home: true, Links: []string{"/a"}},
	"/om-oss":    {Title: "Om oss"},
	"/produkter": {Title: "Produkter"},
	"/kontakt":   {Title: "Kontakt"},
	"/a":         {Title: "Arkiv", Links: []string{"/a/b"}},
	"/a/b":       {Title: "Arkiv 2024", Links: []string{"/a/b/c"}},
	"/a/b/c":     {Title: "Arkiv mars 2024", Scripts: []string{"https://www.clarity.ms/tag/abc123"}},
	"/kampanj":   {Title: "Kampanj", Scripts: []string{"https://analytics.tiktok.com/i18n/pixel/events.js"}},
	"/nyheter":   {Title: "Nyheter"},
}

// Exempel is a Swedish company site, www.exempel.se, with the usual tags:
// a first-party PHP session cookie, Google Analytics and Ads, a DoubleClick
// pixel, Segment, Hotjar, a YouTube embed, a OneTrust banner that loads
// Facebook's pixel only after "Acceptera alla", Clarity three links deep and
// TikTok on a page only the sitemap lists.
type Exempel struct {
	mu       sync.Mutex
	sessions int            // PHPSESSID cookies issued
	loads    map[string]int // page loads by path
}

// Sessions returns how many PHPSESSID cookies the site has issued: one per
// visitor, as long as the visitor keeps the cookie.
func (e *Exempel) Sessions() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions
}

// Loads returns how many times the page at path was loaded.
func (e *Exempel) Loads(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.loads[path]
}

// exempelFiles are the fixture's static files: URL (host and path) to file
// name and content type.
var exempelFiles = map[string][2]string{
	"www.exempel.se/robots.txt":                              {"robots.txt", "text/plain; charset=utf-8"},
	"www.exempel.se/sitemap_index.xml":                       {"sitemap_index.xml", "application/xml"},
	"www.exempel.se/sitemap_pages.xml":                       {"sitemap_pages.xml", "application/xml"},
	"www.exempel.se/sitemap.xml":                             {"sitemap.xml", "application/xml"},
	"www.googletagmanager.com/gtag/js":                       {"gtag.js", "text/javascript"},
	"www.googletagmanager.com/gtm.js":                        {"gtm.js", "text/javascript"},
	"www.youtube.com/s/player/base.js":                       {"base.js", "text/javascript"},
	"cdn.cookielaw.org/scripttemplates/otSDKStub.js":         {"otSDKStub.js", "text/javascript"},
	"connect.facebook.net/en_US/fbevents.js":                 {"fbevents.js", "text/javascript"},
	"cdn.segment.com/analytics.js/v1/wk123/analytics.min.js": {"analytics.min.js", "text/javascript"},
	"static.hotjar.com/c/hotjar-3712345.js":                  {"hotjar.js", "text/javascript"},
	"www.clarity.ms/tag/abc123":                              {"clarity.js", "text/javascript"},
	"analytics.tiktok.com/i18n/pixel/events.js":              {"tiktok.js", "text/javascript"},
}

func (e *Exempel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	where := hostname(r) + r.URL.Path
	if f, ok := exempelFiles[where]; ok {
		serveFile(w, f[0], f[1])
		return
	}
	switch where {
	case "www.google-analytics.com/g/collect":
		w.WriteHeader(http.StatusNoContent)
	case "ad.doubleclick.net/ddm/activity/src=123;type=visit;cat=home":
		h.Add("Set-Cookie", "IDE=AHWqTUm-test; Max-Age=33696000; Domain=.doubleclick.net; Path=/; SameSite=None; Secure; HttpOnly")
		h.Add("Set-Cookie", "test_cookie=CheckForPermission; Max-Age=900; Domain=.doubleclick.net; Path=/") // no SameSite: refused in a third-party context
		servePixel(w)
	case "www.youtube.com/embed/dQw4w9WgXcQ":
		h.Add("Set-Cookie", "VISITOR_INFO1_LIVE=Xq1ZtESTv; Max-Age=15552000; Domain=.youtube.com; Path=/; SameSite=None; Secure; HttpOnly")
		h.Add("Set-Cookie", "YSC=aBcDeFgH; Domain=.youtube.com; Path=/; SameSite=None; Secure; HttpOnly")
		serveFile(w, "embed.html", "text/html; charset=utf-8")
	case "www.facebook.com/tr":
		h.Add("Set-Cookie", "fr=0testFr..Bk; Max-Age=7776000; Domain=.facebook.com; Path=/; SameSite=None; Secure; HttpOnly")
		servePixel(w)
	default:
		if hostname(r) == "www.exempel.se" {
			e.page(w, r)
			return
		}
		http.NotFound(w, r)
	}
}

// page serves an HTML page of www.exempel.se, issuing a PHP session cookie
// to a visitor without one.
func (e *Exempel) page(w http.ResponseWriter, r *http.Request) {
	p, ok := exempelPages[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	e.mu.Lock()
	if e.loads == nil {
		e.loads = map[string]int{}
	}
	e.loads[r.URL.Path]++
	if _, err := r.Cookie("PHPSESSID"); err != nil {
		e.sessions++
		http.SetCookie(w, &http.Cookie{Name: "PHPSESSID", Value: fmt.Sprintf("s%08d", e.sessions), Path: "/", HttpOnly: true, Secure: true})
	}
	e.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTmpl.Execute(w, p); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func hostname(r *http.Request) string {
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	return strings.ToLower(host)
}

func serveFile(w http.ResponseWriter, name, contentType string) {
	b, err := exempelFS.ReadFile("testdata/exempel/" + name)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Write(b)
}

// pixel is a transparent 1×1 GIF.
var pixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

func servePixel(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "image/gif")
	w.Write(pixel)
}

package crawl

import (
	"net"
	"net/url"
	"path"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// registrable returns the registrable domain (eTLD+1) of host, or host
// itself for IP addresses, localhost and other names without one.
func registrable(host string) string {
	host = strings.TrimSuffix(strings.ToLower(strings.TrimPrefix(host, ".")), ".")
	if net.ParseIP(host) != nil {
		return host
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return d
}

// onSite reports whether host belongs to the site with registrable domain
// site.
func onSite(host, site string) bool {
	return registrable(host) == site
}

// trackingParams are query parameters that mark where a visitor came from
// and never change the page; they are dropped so one page is visited once.
var trackingParams = []string{"gclid", "fbclid", "msclkid", "dclid", "yclid", "mc_cid", "mc_eid", "_ga", "_gl"}

// normalize resolves ref against base and returns the canonical form of an
// http(s) URL: lower-case scheme and host, no default port, no fragment, a
// path of at least "/", tracking parameters dropped and the rest sorted. ok
// is false for anything that is not http(s).
func normalize(ref string, base *url.URL) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return "", false
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "", false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if p := u.Port(); p != "" && !(u.Scheme == "http" && p == "80" || u.Scheme == "https" && p == "443") {
		host = net.JoinHostPort(host, p)
	}
	u.Host = host
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path, u.RawPath = "/", ""
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if strings.HasPrefix(strings.ToLower(k), "utm_") {
				q.Del(k)
			}
		}
		for _, k := range trackingParams {
			q.Del(k)
		}
		u.RawQuery = q.Encode()
	}
	u.ForceQuery = false
	return u.String(), true
}

// nonPageExts are file extensions of links that are never web pages.
var nonPageExts = map[string]bool{
	".pdf": true, ".zip": true, ".gz": true, ".tgz": true, ".rar": true, ".7z": true,
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true, ".svg": true, ".ico": true, ".avif": true, ".bmp": true, ".tif": true, ".tiff": true,
	".mp3": true, ".mp4": true, ".m4a": true, ".mov": true, ".avi": true, ".webm": true, ".ogg": true, ".wav": true,
	".doc": true, ".docx": true, ".xls": true, ".xlsx": true, ".ppt": true, ".pptx": true, ".odt": true, ".ods": true, ".csv": true, ".txt": true,
	".css": true, ".js": true, ".mjs": true, ".json": true, ".xml": true, ".rss": true, ".atom": true,
	".woff": true, ".woff2": true, ".ttf": true, ".otf": true, ".eot": true,
	".exe": true, ".dmg": true, ".apk": true, ".msi": true, ".iso": true, ".bin": true,
}

// looksLikePage reports whether a URL's path may name an HTML page.
func looksLikePage(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	return !nonPageExts[strings.ToLower(path.Ext(u.Path))]
}

// visit is one page the crawler plans to load.
type visit struct {
	URL   string
	Via   string // "start", "sitemap", "link"
	Depth int
}

// frontier holds the pages found and not yet visited, lowest depth first,
// and remembers every URL ever queued so each is visited once.
type frontier struct {
	site     string
	maxDepth int
	seen     map[string]bool
	byDepth  [][]visit
	queued   int
}

func newFrontier(site string, maxDepth int) *frontier {
	return &frontier{site: site, maxDepth: maxDepth, seen: map[string]bool{}}
}

// add queues ref (resolved against base) if it is an unseen page of the site
// within the depth limit, and reports whether it did.
func (f *frontier) add(ref string, base *url.URL, via string, depth int) bool {
	u, ok := normalize(ref, base)
	if !ok || f.seen[u] || depth > f.maxDepth || !looksLikePage(u) {
		return false
	}
	pu, _ := url.Parse(u)
	if !onSite(pu.Hostname(), f.site) {
		return false
	}
	f.seen[u] = true
	for len(f.byDepth) <= depth {
		f.byDepth = append(f.byDepth, nil)
	}
	f.byDepth[depth] = append(f.byDepth[depth], visit{URL: u, Via: via, Depth: depth})
	f.queued++
	return true
}

// markSeen records a URL reached another way (the end of a redirect) so it
// is not visited again.
func (f *frontier) markSeen(ref string) {
	if u, ok := normalize(ref, nil); ok {
		f.seen[u] = true
	}
}

// next returns the queued page of lowest depth.
func (f *frontier) next() (visit, bool) {
	for d, q := range f.byDepth {
		if len(q) > 0 {
			v := q[0]
			f.byDepth[d] = q[1:]
			f.queued--
			return v, true
		}
	}
	return visit{}, false
}

// len is the number of queued pages.
func (f *frontier) len() int { return f.queued }

package crawl

import (
	"bufio"
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Limits of sitemap discovery, so a huge or looping sitemap tree stays
// cheap.
const (
	maxSitemapDocs  = 20
	maxSitemapPages = 10000
	maxDocumentText = 8 << 20
	maxDiscovery    = time.Minute
)

// robotsSitemaps returns the URLs of the Sitemap lines of a robots.txt.
// Other rules are ignored: a site owner's scan must see every page a
// visitor can.
func robotsSitemaps(text string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		key, val, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(key), "sitemap") {
			if v := strings.TrimSpace(val); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

type sitemapLoc struct {
	Loc string `xml:"loc"`
}

// sitemapXML is a urlset or a sitemapindex (sitemaps.org).
type sitemapXML struct {
	XMLName  xml.Name
	URLs     []sitemapLoc `xml:"url"`
	Sitemaps []sitemapLoc `xml:"sitemap"`
}

// parseSitemap returns the page URLs of a urlset and the sitemap URLs of a
// sitemapindex.
func parseSitemap(text string) (pages, sitemaps []string, err error) {
	var doc sitemapXML
	if err := xml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, nil, fmt.Errorf("parse sitemap: %w", err)
	}
	switch doc.XMLName.Local {
	case "urlset", "sitemapindex":
	default:
		return nil, nil, fmt.Errorf("parse sitemap: root element is %q, want urlset or sitemapindex", doc.XMLName.Local)
	}
	for _, u := range doc.URLs {
		if l := strings.TrimSpace(u.Loc); l != "" {
			pages = append(pages, l)
		}
	}
	for _, s := range doc.Sitemaps {
		if l := strings.TrimSpace(s.Loc); l != "" {
			sitemaps = append(sitemaps, l)
		}
	}
	return pages, sitemaps, nil
}

// fetchFunc loads a URL and returns the document's content type and text,
// or an error for anything but a 200.
type fetchFunc func(ctx context.Context, rawURL string) (contentType, text string, err error)

// discoverSitemaps reads robots.txt and the sitemaps it names, plus
// /sitemap.xml, following sitemap indexes, and returns the page URLs listed
// on the site and notes on what was found.
func discoverSitemaps(ctx context.Context, fetch fetchFunc, start *url.URL, site string) (pages, notes []string) {
	origin := &url.URL{Scheme: start.Scheme, Host: start.Host}
	var todo []string
	if _, text, err := fetch(ctx, origin.String()+"/robots.txt"); err == nil {
		todo = append(todo, robotsSitemaps(text)...)
	}
	todo = append(todo, origin.String()+"/sitemap.xml")
	seen := map[string]bool{}
	docs := 0
	for len(todo) > 0 && docs < maxSitemapDocs && len(pages) < maxSitemapPages && ctx.Err() == nil {
		ref := todo[0]
		todo = todo[1:]
		u, ok := normalize(ref, origin)
		if !ok || seen[u] {
			continue
		}
		seen[u] = true
		if pu, _ := url.Parse(u); !onSite(pu.Hostname(), site) {
			notes = append(notes, fmt.Sprintf("sitemap %s is off the site; not read", u))
			continue
		}
		docs++
		_, text, err := fetch(ctx, u)
		if err != nil {
			continue
		}
		p, s, err := parseSitemap(text)
		if err != nil {
			notes = append(notes, fmt.Sprintf("sitemap %s: %v", u, err))
			continue
		}
		pages = append(pages, p...)
		todo = append(todo, s...)
	}
	if len(pages) > maxSitemapPages {
		pages = pages[:maxSitemapPages]
	}
	return pages, notes
}

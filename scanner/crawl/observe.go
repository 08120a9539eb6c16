package crawl

import (
	"maps"
	"net/url"
	"slices"
	"time"

	"github.com/chromedp/cdproto/network"

	"github.com/crumbhq/crumb/scanner"
)

// tally gathers what one consent mode's visits found and turns it into
// report items. The jar and the storage reads are the ground truth of what
// is stored; the writes seen in events say who stored it and on which pages.
type tally struct {
	site string
	mode string

	cookies map[string]*seenCookie
	storage map[string]*seenStorage
	writes  []cookieWrite
	stores  []storageWrite
	blocked map[string]*scanner.BlockedCookie
	hosts   map[string]*scanner.Host
	hostSeq []string
}

// seenCookie is a cookie of the jar, without its value.
type seenCookie struct {
	name, domain, path string
	session            bool
	expires            time.Time
	secure, httpOnly   bool
	sameSite           string
	size, valueLen     int
	firstSeen          time.Time
	firstPage          string
}

// seenStorage is a web storage key or an IndexedDB database of an origin.
type seenStorage struct {
	kind         scanner.Kind
	origin, name string
	valueLen     int
	firstSeen    time.Time
	firstPage    string
}

func newTally(site, mode string) *tally {
	return &tally{site: site, mode: mode, cookies: map[string]*seenCookie{}, storage: map[string]*seenStorage{},
		blocked: map[string]*scanner.BlockedCookie{}, hosts: map[string]*scanner.Host{}}
}

// addJar records the jar as read after a visit to page at time at.
func (t *tally) addJar(jar []*network.Cookie, page string, at time.Time) {
	for _, c := range jar {
		k := cookieKey(c)
		sc := t.cookies[k]
		if sc == nil {
			sc = &seenCookie{firstSeen: at, firstPage: page}
			t.cookies[k] = sc
		}
		sc.name, sc.domain, sc.path = c.Name, c.Domain, c.Path
		sc.session, sc.expires = c.Session, expiry(c)
		sc.secure, sc.httpOnly, sc.sameSite = c.Secure, c.HTTPOnly, string(c.SameSite)
		sc.size, sc.valueLen = int(c.Size), len(c.Value)
	}
}

// addPage records the events and storage reads of one visit.
func (t *tally) addPage(res *pageResult, at time.Time) {
	page := res.page.URL
	for _, fs := range res.storage {
		add := func(kind scanner.Kind, name string, n int) {
			k := string(kind) + "\x00" + fs.Origin + "\x00" + name
			s := t.storage[k]
			if s == nil {
				s = &seenStorage{kind: kind, origin: fs.Origin, name: name, firstSeen: at, firstPage: page}
				t.storage[k] = s
			}
			s.valueLen = n
		}
		for _, k := range fs.Local {
			add(scanner.LocalStorage, k.Name, k.Len)
		}
		for _, k := range fs.Session {
			add(scanner.SessionStorage, k.Name, k.Len)
		}
		for _, name := range fs.IDB {
			add(scanner.IndexedDB, name, 0)
		}
	}
	r := res.rec
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t.writes = append(t.writes, r.writes...)
	t.stores = append(t.stores, r.stores...)
	for _, b := range r.blocked {
		k := b.name + "\x00" + b.domain + "\x00" + b.setBy
		bc := t.blocked[k]
		if bc == nil {
			bc = &scanner.BlockedCookie{Name: b.name, Domain: b.domain, SetBy: b.setBy, FirstPage: b.page, SeenIn: []string{t.mode}}
			t.blocked[k] = bc
		}
		for _, reason := range b.reasons {
			if !slices.Contains(bc.Reasons, reason) {
				bc.Reasons = append(bc.Reasons, reason)
			}
		}
	}
	for _, h := range slices.Sorted(maps.Keys(r.hosts)) {
		host := t.hosts[h]
		if host == nil {
			host = &scanner.Host{Host: h, FirstPage: page, SeenIn: []string{t.mode}}
			t.hosts[h] = host
			t.hostSeq = append(t.hostSeq, h)
		}
		host.Requests += r.hosts[h]
	}
}

// items returns the report items of the mode.
func (t *tally) items() []scanner.Item {
	var out []scanner.Item
	for _, k := range slices.Sorted(maps.Keys(t.cookies)) {
		out = append(out, t.cookieItem(t.cookies[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(t.storage)) {
		out = append(out, t.storageItem(t.storage[k]))
	}
	return out
}

func (t *tally) cookieItem(c *seenCookie) scanner.Item {
	it := scanner.Item{
		Kind: scanner.Cookie, Name: c.name, Domain: c.domain, Path: c.path,
		Session: c.session, Secure: c.secure, HTTPOnly: c.httpOnly, SameSite: c.sameSite,
		Size: c.size, ValueLen: c.valueLen,
		Party:  party(c.domain, t.site),
		SetVia: viaUnknown, FirstPage: c.firstPage, SeenIn: []string{t.mode},
	}
	first := c.firstSeen
	jc := &network.Cookie{Name: c.name, Domain: c.domain}
	var setter *cookieWrite
	var pages []string
	for i := range t.writes {
		w := &t.writes[i]
		if !w.matches(jc) {
			continue
		}
		if setter == nil || w.at.Before(setter.at) {
			setter = w
		}
		pages = append(pages, w.page)
	}
	if setter != nil {
		it.SetBy, it.SetVia = setter.setBy, setter.via
		if setter.at.Before(first) {
			first, it.FirstPage = setter.at, setter.page
		}
	}
	it.Pages = pageList(it.FirstPage, pages)
	if !c.session && !c.expires.IsZero() {
		it.Expires = c.expires
		it.Lifetime = scanner.Duration(c.expires.Sub(first).Round(time.Second))
		if setter != nil && setter.requested > time.Duration(it.Lifetime)+24*time.Hour {
			it.RequestedLifetime = scanner.Duration(setter.requested.Round(time.Second))
		}
	}
	return it
}

func (t *tally) storageItem(s *seenStorage) scanner.Item {
	host := ""
	if u, err := url.Parse(s.origin); err == nil {
		host = u.Hostname()
	}
	it := scanner.Item{
		Kind: s.kind, Name: s.name, Domain: host, Origin: s.origin,
		Session: s.kind == scanner.SessionStorage, Size: len(s.name) + s.valueLen, ValueLen: s.valueLen,
		Party: party(host, t.site), SetVia: viaUnknown, FirstPage: s.firstPage, SeenIn: []string{t.mode},
	}
	var setter *storageWrite
	var pages []string
	for i := range t.stores {
		w := &t.stores[i]
		if string(s.kind) != w.kind || w.origin != s.origin || w.name != s.name {
			continue
		}
		if setter == nil || w.at.Before(setter.at) {
			setter = w
		}
		pages = append(pages, w.page)
	}
	if setter != nil {
		it.SetBy, it.SetVia = setter.setBy, viaScript
		if setter.at.Before(s.firstSeen) {
			it.FirstPage = setter.page
		}
	}
	it.Pages = pageList(it.FirstPage, pages)
	return it
}

// pageList is first followed by the other pages, each once, in order.
func pageList(first string, pages []string) []string {
	out := []string{first}
	for _, p := range pages {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

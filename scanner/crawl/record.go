package crawl

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
)

// recorder collects what one tab's events say about a page visit: who
// wrote which cookie or storage key, the cookies Chromium refused, the
// hosts contacted, the main document's status, dialogs and crashes. Events
// come from the tab and from its child sessions (cross-site iframes); the
// few that need an answer (dialogs, paused documents) are answered on the
// session they came from, on a goroutine of their own.
type recorder struct {
	ctx       context.Context // the tab's; ends the answers when the tab closes
	site      string
	binding   string
	mainFrame cdp.FrameID
	now       func() time.Time

	mu       sync.Mutex
	page     string // the URL being visited, recorded with each write
	requests map[string]*requestInfo
	writes   []cookieWrite
	stores   []storageWrite
	blocked  []blockedWrite
	hosts    map[string]int
	dialogs  int
	doc      docInfo
	scripts  []scriptResponse
	life     map[cdp.LoaderID]map[string]bool
	changed  chan struct{} // closed and replaced whenever doc or life changes

	crashOnce sync.Once
	crashed   chan struct{}
}

// requestInfo follows one request id through its redirects: each response
// (and its extra info) belongs to the hop at the same position.
type requestInfo struct {
	urls   []string
	extras []*network.EventResponseReceivedExtraInfo // waiting for their hop's URL
	seen   int                                       // extra infos resolved
}

// docInfo is what is known of the tab's main document.
type docInfo struct {
	loader   cdp.LoaderID
	url      string
	status   int64
	mime     string
	blocked  string // why the guard stopped a navigation, if it did
	redirect string // where an off-site redirect pointed
}

// storageWrite is a script's Storage.setItem call, or its opening of an
// IndexedDB database.
type storageWrite struct {
	kind, origin, name string
	valueLen           int
	setBy, page        string
	at                 time.Time
}

// blockedWrite is a Set-Cookie line Chromium refused.
type blockedWrite struct {
	name, domain, setBy, page string
	reasons                   []string
}

// scriptResponse is a loaded script that may be crumb's widget.
type scriptResponse struct {
	session caller
	id      network.RequestID
	url     string
}

func newRecorder(ctx context.Context, site, binding string, mainFrame cdp.FrameID, now func() time.Time) *recorder {
	return &recorder{
		ctx: ctx, site: site, binding: binding, mainFrame: mainFrame, now: now,
		requests: map[string]*requestInfo{},
		hosts:    map[string]int{},
		life:     map[cdp.LoaderID]map[string]bool{},
		changed:  make(chan struct{}),
		crashed:  make(chan struct{}),
	}
}

// setPage sets the URL recorded with the writes that follow.
func (r *recorder) setPage(u string) {
	r.mu.Lock()
	r.page = u
	r.mu.Unlock()
}

// handle records one event from session s; src tells sessions apart, as
// request ids are only unique within one.
func (r *recorder) handle(s caller, src string, ev any) {
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		r.request(src, e)
	case *network.EventResponseReceived:
		r.response(s, e)
	case *network.EventResponseReceivedExtraInfo:
		r.mu.Lock()
		info := r.info(src + string(e.RequestID))
		info.extras = append(info.extras, e)
		r.resolve(info)
		r.mu.Unlock()
	case *runtime.EventBindingCalled:
		if e.Name == r.binding {
			r.scriptWrite(e.Payload)
		}
	case *page.EventJavascriptDialogOpening:
		r.mu.Lock()
		r.dialogs++
		r.mu.Unlock()
		go func() {
			_, _ = send(r.ctx, s, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}()
	case *inspector.EventTargetCrashed:
		r.crashOnce.Do(func() { close(r.crashed) })
	case *fetch.EventRequestPaused:
		go r.guard(s, e)
	case *page.EventLifecycleEvent:
		if e.FrameID == r.mainFrame {
			r.mu.Lock()
			if r.life[e.LoaderID] == nil {
				r.life[e.LoaderID] = map[string]bool{}
			}
			r.life[e.LoaderID][e.Name] = true
			r.notify()
			r.mu.Unlock()
		}
	case *page.EventFrameNavigated:
		if e.Frame != nil && e.Frame.ParentID == "" {
			r.mu.Lock()
			r.doc.loader, r.doc.url = e.Frame.LoaderID, e.Frame.URL
			r.notify()
			r.mu.Unlock()
		}
	}
}

func (r *recorder) info(key string) *requestInfo {
	info := r.requests[key]
	if info == nil {
		info = &requestInfo{}
		r.requests[key] = info
	}
	return info
}

func (r *recorder) request(src string, e *network.EventRequestWillBeSent) {
	if e.Request == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	info := r.info(src + string(e.RequestID))
	info.urls = append(info.urls, e.Request.URL)
	r.resolve(info)
	if h := hostOf(e.Request.URL); h != "" && !onSite(h, r.site) && strings.HasPrefix(e.Request.URL, "http") {
		r.hosts[h]++
	}
}

func (r *recorder) response(s caller, e *network.EventResponseReceived) {
	if e.Response == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Type == network.ResourceTypeDocument && e.FrameID == r.mainFrame {
		r.doc.status, r.doc.mime, r.doc.url = e.Response.Status, e.Response.MimeType, e.Response.URL
		r.notify()
	}
	if e.Type == network.ResourceTypeScript && isCrumbScript(e.Response.URL) {
		r.scripts = append(r.scripts, scriptResponse{session: s, id: e.RequestID, url: e.Response.URL})
	}
}

// resolve turns the extra infos whose hop URL is known into writes.
func (r *recorder) resolve(info *requestInfo) {
	for len(info.extras) > 0 && info.seen < len(info.urls) {
		e := info.extras[0]
		info.extras = info.extras[1:]
		u := info.urls[info.seen]
		info.seen++
		r.setCookies(u, e)
	}
}

func (r *recorder) setCookies(u string, e *network.EventResponseReceivedExtraInfo) {
	host, at := hostOf(u), r.now()
	for k, v := range e.Headers {
		if !strings.EqualFold(k, "set-cookie") {
			continue
		}
		lines, _ := v.(string)
		for line := range strings.SplitSeq(lines, "\n") {
			if w, ok := parseCookieWrite(line, host, at); ok {
				w.via, w.setBy, w.page = viaHTTP, u, r.page
				r.writes = append(r.writes, w)
			}
		}
	}
	for _, b := range e.BlockedCookies {
		bw := blockedWrite{domain: host, setBy: u, page: r.page}
		if b.Cookie != nil {
			bw.name, bw.domain = b.Cookie.Name, b.Cookie.Domain
		} else if w, ok := parseCookieWrite(b.CookieLine, host, at); ok {
			bw.name = w.name
			if w.domain != "" {
				bw.domain = w.domain
			}
		}
		for _, reason := range b.BlockedReasons {
			bw.reasons = append(bw.reasons, string(reason))
		}
		r.blocked = append(r.blocked, bw)
	}
}

// hookReport is what hook.js sends for each write.
type hookReport struct {
	Kind     string `json:"t"`
	Name     string `json:"n"`
	ValueLen int    `json:"l"`
	Attrs    string `json:"a"`
	Script   string `json:"u"`
	Origin   string `json:"o"`
}

func (r *recorder) scriptWrite(payload string) {
	var h hookReport
	if err := json.Unmarshal([]byte(payload), &h); err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	at := r.now()
	switch h.Kind {
	case "cookie":
		line := h.Name + "="
		if h.Attrs != "" {
			line += ";" + h.Attrs
		}
		w, ok := parseCookieWrite(line, hostOf(h.Origin), at)
		if !ok && h.Name == "" {
			return
		}
		w.valueLen, w.via, w.setBy, w.page = h.ValueLen, viaScript, h.Script, r.page
		r.writes = append(r.writes, w)
	case "localStorage", "sessionStorage", "indexedDB":
		r.stores = append(r.stores, storageWrite{kind: h.Kind, origin: h.Origin, name: h.Name, valueLen: h.ValueLen, setBy: h.Script, page: r.page, at: at})
	}
}

// notify wakes waiters; r.mu must be held.
func (r *recorder) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// waitLife waits until the main frame's current document reaches one of the
// lifecycle events named (e.g. "load"), the tab crashes, or ctx ends.
func (r *recorder) waitLife(ctx context.Context, names ...string) error {
	for {
		r.mu.Lock()
		reached := false
		for _, n := range names {
			reached = reached || r.life[r.doc.loader][n]
		}
		ch := r.changed
		r.mu.Unlock()
		if reached {
			return nil
		}
		select {
		case <-ch:
		case <-r.crashed:
			return errRendererCrashed
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// document returns what is known of the main document.
func (r *recorder) document() docInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.doc
}

// dialogCount returns the number of dialogs dismissed so far.
func (r *recorder) dialogCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dialogs
}

// isCrashed reports whether the tab's renderer crashed.
func (r *recorder) isCrashed() bool {
	select {
	case <-r.crashed:
		return true
	default:
		return false
	}
}

var errRendererCrashed = fmt.Errorf("the page's renderer crashed")

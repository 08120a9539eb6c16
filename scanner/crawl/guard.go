package crawl

import (
	"context"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
)

// guardPatterns pause every document response of a tab (Fetch domain), so
// guard can stop the main frame from leaving the site or downloading a file
// before it happens.
var guardPatterns = []*fetch.RequestPattern{{ResourceType: network.ResourceTypeDocument, RequestStage: fetch.RequestStageResponse}}

// guard answers a paused document response. The main frame may not follow
// a redirect off the site, land on a page off the site, or load something
// that is not a web page (a download); everything else goes on unchanged.
func (r *recorder) guard(s caller, e *fetch.EventRequestPaused) {
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	if reason := r.verdict(e); reason != "" {
		r.mu.Lock()
		r.doc.blocked = reason
		r.notify()
		r.mu.Unlock()
		_, _ = send(ctx, s, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		return
	}
	if e.ResponseStatusCode != 0 || e.ResponseErrorReason != "" {
		_, _ = send(ctx, s, fetch.ContinueResponse, fetch.ContinueResponseParams{RequestID: e.RequestID})
		return
	}
	_, _ = send(ctx, s, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
}

// verdict returns why a paused main-frame document must not load, or "".
func (r *recorder) verdict(e *fetch.EventRequestPaused) string {
	if e.FrameID != r.mainFrame || e.ResourceType != network.ResourceTypeDocument || e.Request == nil {
		return ""
	}
	header := func(name string) string {
		for _, h := range e.ResponseHeaders {
			if strings.EqualFold(h.Name, name) {
				return h.Value
			}
		}
		return ""
	}
	if h := hostOf(e.Request.URL); h != "" && !onSite(h, r.site) {
		return "went off the site to " + e.Request.URL
	}
	status := e.ResponseStatusCode
	if status >= 300 && status < 400 {
		loc := header("Location")
		base, err := url.Parse(e.Request.URL)
		if loc == "" || err != nil {
			return ""
		}
		to, err := base.Parse(loc)
		if err == nil && (to.Scheme == "http" || to.Scheme == "https") && !onSite(to.Hostname(), r.site) {
			r.mu.Lock()
			r.doc.redirect = to.String()
			r.mu.Unlock()
			return "redirected off the site to " + to.String()
		}
		return ""
	}
	if status < 200 || status >= 300 {
		return ""
	}
	if d := header("Content-Disposition"); strings.HasPrefix(strings.ToLower(strings.TrimSpace(d)), "attachment") {
		return "a download, not a web page (Content-Disposition: " + d + ")"
	}
	if ct := header("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err == nil && mt != "text/html" && mt != "application/xhtml+xml" {
			return fmt.Sprintf("not a web page (%s)", mt)
		}
	}
	return ""
}

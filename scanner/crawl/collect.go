package crawl

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
)

// maxLinks bounds the links read from one page.
const maxLinks = 2000

// frameStorage is what storage.js read in one frame.
type frameStorage struct {
	Origin  string      `json:"origin"`
	Local   []storedKey `json:"local"`
	Session []storedKey `json:"session"`
	IDB     []string    `json:"idb"`
}

// storedKey is a storage key and the length of its value, sent by
// storage.js as a [name, length] pair.
type storedKey struct {
	Name string
	Len  int
}

func (k *storedKey) UnmarshalJSON(b []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 {
		return fmt.Errorf("storage key: want [name, length], got %s", b)
	}
	if err := json.Unmarshal(pair[0], &k.Name); err != nil {
		return fmt.Errorf("storage key name: %w", err)
	}
	return json.Unmarshal(pair[1], &k.Len)
}

// collect reads the page's links and the web storage of each of its frames
// (cross-site iframes through their own sessions). A crashed page has
// nothing left to read; its cookies are in the jar, which the crawl reads
// after every page.
func (v *pageVisit) collect(ctx context.Context) {
	if v.rec.isCrashed() {
		return
	}
	doc := v.rec.document()
	if doc.blocked == "" && (doc.mime == "" || strings.Contains(doc.mime, "html")) && v.depth() < v.run.opts.MaxDepth {
		lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		links, err := evalIn[[]string](lctx, v.t, v.rec.mainFrame, linksScript(maxLinks))
		cancel()
		if err == nil {
			v.res.links = links
		}
	}
	seen := map[string]bool{}
	read := func(s caller, frame cdp.FrameID) {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		fs, err := evalIn[frameStorage](sctx, s, frame, storageJS)
		if err != nil || fs.Origin == "" || fs.Origin == "null" || seen[fs.Origin] {
			return
		}
		seen[fs.Origin] = true
		v.res.storage = append(v.res.storage, fs)
	}
	readTree := func(s caller) {
		fctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		fr, err := frames(fctx, s)
		cancel()
		if err != nil {
			return
		}
		for _, f := range fr {
			if u, err := url.Parse(f.URL); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
				read(s, f.ID)
			}
		}
	}
	readTree(v.t)
	for _, c := range v.run.b.l.mux.childrenOf(v.t.SessionID) {
		if c.info.Type == "iframe" && ctx.Err() == nil {
			readTree(c)
		}
	}
}

// depth returns the depth of the page being visited.
func (v *pageVisit) depth() int { return v.res.page.Depth }

package crawltest

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/crumbhq/crumb/widget"
)

// BokhandelnHosts are the host names of the Bokhandeln fixture.
var BokhandelnHosts = []string{"www.bokhandeln.se", "www.googletagmanager.com", "www.google-analytics.com", "ad.doubleclick.net", BokhandelnPixelHost}

// BokhandelnPixelHost serves the LinkedIn Insight pixel the shop forgot to
// gate: a tracker contacted before consent that sets no cookie.
const BokhandelnPixelHost = "px.ads.linkedin.com"

// Bokhandeln is a bookshop, www.bokhandeln.se, that runs crumb's own
// banner (the real widget bundle, with the shop's configuration inlined) and
// gates Google Analytics behind analytics and a DoubleClick pixel behind
// marketing, but loads a LinkedIn pixel on every page ungated (a request to
// a tracker before consent that stores nothing). It records what a visitor
// sent back: consent decisions posted to its API and the consent cookies it
// saw.
type Bokhandeln struct {
	script []byte

	mu       sync.Mutex
	posts    int
	consents []string
}

// BokhandelnRevision is the shop's banner revision.
const BokhandelnRevision = 3

// NewBokhandeln builds the shop's crumb.js.
func NewBokhandeln() (*Bokhandeln, error) {
	b, err := widget.Build()
	if err != nil {
		return nil, err
	}
	texts, _ := widget.DefaultTexts("sv")
	name := func(sv string) map[string]string { return map[string]string{"sv": sv} }
	js, err := b.Script(widget.Config{
		Site: "bokhandeln", Name: "Bokhandeln AB", Revision: BokhandelnRevision, Validity: 15552000,
		PrivacyPolicyURL: "https://www.bokhandeln.se/integritet", Languages: []string{"sv"},
		Texts: map[string]map[string]string{"sv": texts}, Theme: widget.DefaultTheme, IconPosition: "bottom-left",
		// A cookie domain the shop's host is not within, as on a staging
		// copy of a site: the widget and the scanner keep a host-only cookie.
		CookieDomain: "bokhandeln.com",
		Categories: []widget.Category{
			{ID: "necessary", Locked: true, Name: name("Nödvändiga"), Description: name("Krävs för att sidan ska fungera.")},
			{ID: "analytics", Name: name("Statistik"), Description: name("Hjälper oss förstå hur sidan används.")},
			{ID: "marketing", Name: name("Marknadsföring"), Description: name("Annonser som passar dig.")},
		},
	})
	if err != nil {
		return nil, err
	}
	return &Bokhandeln{script: js}, nil
}

// Posts returns how many consent decisions were posted to the shop's API.
func (s *Bokhandeln) Posts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts
}

// Consents returns the crumb_consent cookies the shop's pages were
// requested with.
func (s *Bokhandeln) Consents() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.consents...)
}

const bokhandelnPage = `<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>%s – Bokhandeln</title>
<script src="/v1/sites/bokhandeln/crumb.js"></script>
<script type="text/plain" data-crumb-category="analytics" src="https://www.googletagmanager.com/gtag/js?id=G-BOK1"></script>
</head><body><h1>%s</h1><p><a href="/bocker">Böcker</a></p>
<img data-crumb-src="https://ad.doubleclick.net/ddm/activity/src=123;type=visit;cat=home" data-crumb-category="marketing" width="1" height="1" alt="">
<img src="https://px.ads.linkedin.com/collect/?pid=4242&amp;fmt=gif" width="1" height="1" alt="">
</body></html>`

func (s *Bokhandeln) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch hostname(r) + r.URL.Path {
	case "www.bokhandeln.se/", "www.bokhandeln.se/bocker":
		if c, err := r.Cookie("crumb_consent"); err == nil {
			s.mu.Lock()
			s.consents = append(s.consents, c.Value)
			s.mu.Unlock()
		}
		title := "Välkommen"
		if r.URL.Path != "/" {
			title = "Böcker"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, bokhandelnPage, title, title)
	case "www.bokhandeln.se/v1/sites/bokhandeln/crumb.js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(s.script)
	case "www.bokhandeln.se/v1/sites/bokhandeln/consents":
		s.mu.Lock()
		s.posts++
		s.mu.Unlock()
		http.Error(w, `{"error":"the fixture records no consents"}`, http.StatusServiceUnavailable)
	case "www.bokhandeln.se/v1/sites/bokhandeln/impressions":
		w.WriteHeader(http.StatusNoContent)
	case BokhandelnPixelHost + "/collect/":
		servePixel(w) // no cookie
	default:
		(&Exempel{}).ServeHTTP(w, r) // the tags' own hosts
	}
}

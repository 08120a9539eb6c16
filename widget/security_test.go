package widget_test

import (
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crumbhq/crumb/scanner/browsertest"
	"github.com/crumbhq/crumb/widget"
)

// xss is operator text that would run code if the banner ever parsed it as
// HTML or let it end its script.
const xss = "</script><script>window.xss=1</script><img src=x onerror=\"window.xss=1\"><b>bold</b> ' \" \u2028\u2029 ${x} &amp; <!--"

func TestOperatorTextStaysInert(t *testing.T) {
	cfg := testConfig()
	cfg.Name = xss
	cfg.PrivacyPolicyURL = "javascript:window.xss=1"
	for _, texts := range cfg.Texts {
		for k := range texts {
			texts[k] = xss
		}
	}
	for i := range cfg.Categories {
		c := &cfg.Categories[i]
		c.Name = map[string]string{"en": xss}
		c.Description = map[string]string{"en": xss}
		for j := range c.Cookies {
			c.Cookies[j].Name, c.Cookies[j].Provider = xss, xss
			c.Cookies[j].Purpose = map[string]string{"en": xss}
		}
	}
	site := newTestSite(t, mustBuild(t), cfg)
	ctx := browsertest.Tab(t)
	open(t, ctx, site.url("/index.html"))
	waitJS(t, ctx, in(".b"))
	click(t, ctx, in(".bs .s"))
	waitJS(t, ctx, in("dialog[open]"))
	eval[bool](t, ctx, `[...`+in("dialog")+`.querySelectorAll('details')].forEach(d => d.open = true), true`)

	if got := eval[string](t, ctx, in("#ct")+`.textContent`); got != xss {
		t.Errorf("title = %q, want the operator's text verbatim", got)
	}
	if got := eval[bool](t, ctx, `window.xss === undefined`); !got {
		t.Error("operator text ran as code")
	}
	root := `document.querySelector('crumb-consent').shadowRoot`
	if n := eval[int](t, ctx, root+`.querySelectorAll('script, img, b:not(li > b), a').length`); n != 0 {
		t.Errorf("%d elements made from operator text (or an unsafe link)", n)
	}
	if got := eval[int](t, ctx, `[...`+root+`.querySelectorAll('td')].filter(td => td.textContent === `+quote(xss)+`).length`); got == 0 {
		t.Error("cookie table does not show the operator's text verbatim")
	}
}

func TestStrictCSPAndHostileCSS(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	beforeLoad(t, ctx, `window.violations = []; document.addEventListener('securitypolicyviolation', e => violations.push(e.violatedDirective + ' ' + e.blockedURI));`)
	open(t, ctx, site.url("/strict-hostile.html"))
	waitJS(t, ctx, in(".b"))
	style := eval[map[string]string](t, ctx, `(s => ({position: s.position, size: s.fontSize, bg: s.backgroundColor, color: s.color, display: s.display}))(getComputedStyle(`+in(".b")+`))`)
	if want := map[string]string{"position": "fixed", "size": "15px", "bg": "rgb(255, 255, 255)", "color": "rgb(31, 35, 40)", "display": "flex"}; !equalJSON(style, want) {
		t.Errorf("banner style under hostile CSS = %v, want %v", style, want)
	}
	time.Sleep(400 * time.Millisecond) // let the slide-in finish
	screenshot(t, ctx, "hostile-banner-1280")
	click(t, ctx, in(".bs .a")) // a real click: visible, on top, clickable
	checkRecord(t, site.waitRecorded(1)[0], "accept_all", true, true)
	waitJS(t, ctx, `window.ran?.length === 2`)
	click(t, ctx, in(".i"))
	waitJS(t, ctx, in("dialog[open]"))
	if got := eval[string](t, ctx, `getComputedStyle(`+in("dialog")+`).display`); got != "flex" {
		t.Errorf("Settings display = %s under hostile CSS", got)
	}
	// The banner's styles leak nothing out: the page's own h1 keeps its look.
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector('h1')).color`); got != "rgb(255, 0, 0)" {
		t.Errorf("page h1 colour = %s, want the page's own red", got)
	}
	if v := eval[[]string](t, ctx, `window.violations`); len(v) != 0 {
		t.Errorf("CSP violations: %v", v)
	}
}

func TestGlobalPrivacyControl(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	beforeLoad(t, ctx, `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})`)
	open(t, ctx, site.url("/index.html"))
	waitJS(t, ctx, in(".b .n"))
	if got := eval[string](t, ctx, in(".b .n")+`.textContent`); !contains(got, "Global Privacy Control") || !contains(got, "Marketing") {
		t.Errorf("GPC notice = %q", got)
	}
	click(t, ctx, in(".bs .a"))
	checkRecord(t, site.waitRecorded(1)[0], "gpc", true, false)
	waitJS(t, ctx, `window.ran?.length >= 3`)
	if ran := eval[[]string](t, ctx, `window.ran`); slices.Contains(ran, "marketing") {
		t.Errorf("marketing ran despite GPC: %v", ran)
	}
	checkConsentMode(t, ctx, cmDefault, cmUpdate(true, false))
}

func TestGPCIgnoredWhenSiteSaysSo(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	site.set(func(cfg *widget.Config) { cfg.GPC = nil })
	ctx := browsertest.Tab(t)
	beforeLoad(t, ctx, `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})`)
	open(t, ctx, site.url("/index.html"))
	click(t, ctx, in(".bs .a"))
	checkRecord(t, site.waitRecorded(1)[0], "accept_all", true, true)
}

func TestEmbedPlaceholderLoadsOnConsent(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	do(t, ctx, chromedp.EmulateViewport(1280, 1400))
	open(t, ctx, site.url("/index.html"))
	waitJS(t, ctx, `document.querySelector('crumb-embed')`)
	size := eval[[]float64](t, ctx, `(r => [r.width, r.height])(document.querySelector('crumb-embed').getBoundingClientRect())`)
	if size[0] != 560 || size[1] != 315 {
		t.Errorf("placeholder is %v px, want the iframe's 560x315", size)
	}
	click(t, ctx, `document.querySelector('crumb-embed').shadowRoot.querySelector('button')`)
	checkRecord(t, site.waitRecorded(1)[0], "custom", false, true)
	waitJS(t, ctx, `document.querySelector('iframe').contentDocument?.body?.textContent.includes('Embedded video player')`)
	waitJS(t, ctx, `window.ran?.includes('marketing') && !document.querySelector('crumb-embed') && !`+in(".b"))
	if ran := eval[[]string](t, ctx, `window.ran`); !slices.Equal(ran, []string{"marketing"}) {
		t.Errorf("ran %v, want only marketing", ran)
	}
	if hit := site.fetchedAny("/pixel.gif", "/analytics.js"); !slices.Equal(hit, []string{"/pixel.gif"}) {
		t.Errorf("fetched %v, want the marketing pixel only", hit)
	}
}

// TestGPCAfterEarlierConsent checks R42 for a visitor who granted a GPC
// category before their browser sent the signal: on the next page GPC
// withdraws it as a withdrawal does (its cookies and storage deleted, one
// Consent Mode update with it denied, nothing of it run), recorded as gpc
// under the same consent id, and Settings shows it off with the notice. A
// visitor who turns it on in Settings while GPC is on has chosen it: later
// pages keep it, and no notice says GPC turned it off.
func TestGPCAfterEarlierConsent(t *testing.T) {
	cfg := testConfig()
	cfg.Categories[2].Cookies = append(cfg.Categories[2].Cookies, widget.Cookie{Name: "mkt_ls", Kind: "localStorage", Party: "first", Provider: "Fixture AB"})
	site := newTestSite(t, mustBuild(t), cfg)
	ctx := browsertest.Tab(t)
	open(t, ctx, site.url("/index.html"))
	click(t, ctx, in(".bs .a"))
	checkRecord(t, site.waitRecorded(1)[0], "accept_all", true, true)
	waitJS(t, ctx, `window.ran?.length >= 4`)
	eval[bool](t, ctx, `localStorage.setItem('mkt_ls', 'x'), true`)
	id := eval[string](t, ctx, `crumb.get().id`)

	// The browser starts sending GPC.
	beforeLoad(t, ctx, `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})`)
	open(t, ctx, site.url("/index.html"))
	rec := site.waitRecorded(2)[1]
	checkRecord(t, rec, "gpc", true, false)
	if rec.ConsentID != id || id == "" {
		t.Errorf("GPC withdrawal recorded under %q, want the visitor's %q", rec.ConsentID, id)
	}
	waitJS(t, ctx, `window.ran?.length >= 3 && `+in(".i"))
	time.Sleep(300 * time.Millisecond)
	if ran := eval[[]string](t, ctx, `window.ran`); slices.Contains(ran, "marketing") {
		t.Errorf("marketing ran under GPC: %v", ran)
	}
	checkConsentMode(t, ctx, cmDefault, cmUpdate(true, false))
	if c := cookies(t, ctx, site); c["_fbp"] != nil || c["_ga"] == nil {
		t.Errorf("cookies under GPC: %v, want _fbp deleted and _ga kept", names(c))
	}
	if eval[bool](t, ctx, `localStorage.getItem('mkt_ls') !== null`) {
		t.Error("marketing's localStorage item survived the GPC withdrawal")
	}
	click(t, ctx, in(".i"))
	waitJS(t, ctx, in("dialog[open]"))
	if got := eval[[]string](t, ctx, toggles); !slices.Equal(got, []string{"on/locked", "on", "off"}) {
		t.Errorf("Settings under GPC: toggles %v, want marketing off", got)
	}
	if got := eval[string](t, ctx, in("dialog .n")+`?.textContent || ''`); !contains(got, "Global Privacy Control") || !contains(got, "Marketing") {
		t.Errorf("GPC notice in Settings = %q", got)
	}

	// The visitor turns marketing on again, explicitly: it stays.
	click(t, ctx, `[...`+in("dialog")+`.querySelectorAll('input')][2]`)
	click(t, ctx, in(".ft .s"))
	checkRecord(t, site.waitRecorded(3)[2], "custom", true, true)
	// The API's own cookie (same origin) knows nothing of GPC; the banner
	// marks it again once the answer is in. A page left before that loses
	// the mark, and the next one withdraws again, recorded as gpc.
	waitJS(t, ctx, `/crumb_consent=[^;]*\.g(;|$)/.test(document.cookie)`)
	for range 2 {
		open(t, ctx, site.url("/index.html"))
		waitJS(t, ctx, `window.ran?.includes('marketing')`)
		checkConsentMode(t, ctx, cmDefault, cmUpdate(true, true))
	}
	if n := len(site.recorded()); n != 3 {
		t.Errorf("%d records, want 3: GPC does not undo an explicit choice made under it", n)
	}
	click(t, ctx, in(".i"))
	waitJS(t, ctx, in("dialog[open]"))
	if got := eval[[]string](t, ctx, toggles); !slices.Equal(got, []string{"on/locked", "on", "on"}) {
		t.Errorf("Settings after the explicit choice: toggles %v, want all on", got)
	}
	if eval[bool](t, ctx, `!!`+in("dialog .n")) {
		t.Errorf("Settings says %q while marketing is on", eval[string](t, ctx, in("dialog .n")+`.textContent`))
	}
}

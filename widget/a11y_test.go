package widget_test

import (
	"slices"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/crumbhq/crumb/scanner/browsertest"
)

// focused is the deepest focused element, through shadow roots.
const focused = `(() => { let e = document.activeElement; while (e?.shadowRoot?.activeElement) e = e.shadowRoot.activeElement; return e })()`

func TestKeyboardOnly(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	open(t, ctx, site.url("/index.html"))
	waitJS(t, ctx, in(".b"))

	// The banner comes first in the tab order: link, Accept, Reject, Settings.
	var seen []string
	for range 4 {
		keys(t, ctx, kb.Tab)
		seen = append(seen, eval[string](t, ctx, focused+`.textContent`))
	}
	if want := []string{"Privacy policy", "Accept all", "Reject all", "Settings"}; !slices.Equal(seen, want) {
		t.Fatalf("Tab visits %v, want %v", seen, want)
	}
	if got := eval[string](t, ctx, `(s => s.outlineStyle + ' ' + s.outlineWidth)(getComputedStyle(`+focused+`))`); got != "solid 3px" {
		t.Errorf("focused button outline = %q, want a visible 3px outline", got)
	}

	// Enter opens Settings; Tab and Shift+Tab stay inside it.
	keys(t, ctx, kb.Enter)
	waitJS(t, ctx, in("dialog[open]"))
	inside := `(` + in("dialog") + `).contains(` + focused + `)`
	for i := range 14 {
		keys(t, ctx, kb.Tab)
		if !eval[bool](t, ctx, inside) {
			t.Fatalf("Tab %d left the Settings dialog for %s", i+1, eval[string](t, ctx, focused+`.outerHTML`))
		}
	}
	for i := range 3 {
		keys(t, ctx, kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
		if !eval[bool](t, ctx, inside) {
			t.Fatalf("Shift+Tab %d left the Settings dialog", i+1)
		}
	}
	// Space switches analytics on; Escape closes without saving anything
	// (R12) and gives focus back to the Settings button.
	for range 20 {
		if eval[bool](t, ctx, focused+` === [...`+in("dialog")+`.querySelectorAll('input')][1]`) {
			break
		}
		keys(t, ctx, kb.Tab)
	}
	keys(t, ctx, " ")
	if !eval[bool](t, ctx, `[...`+in("dialog")+`.querySelectorAll('input')][1].checked`) {
		t.Fatal("Space did not switch the analytics toggle on")
	}
	keys(t, ctx, kb.Escape)
	waitJS(t, ctx, `!`+in("dialog")+` && `+in(".b"))
	if got := eval[string](t, ctx, focused+`.textContent`); got != "Settings" {
		t.Errorf("after Escape focus is on %q, want the Settings button", got)
	}
	if n := len(site.recorded()); n != 0 || eval[bool](t, ctx, `crumb.get().categories.analytics`) {
		t.Fatalf("Escape granted something: %d records, state %v", n, eval[map[string]any](t, ctx, `crumb.get()`))
	}
	// Shift+Tab back to Reject all, Enter: focus goes to the cookie icon,
	// not to the page's start.
	keys(t, ctx, kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
	keys(t, ctx, kb.Enter)
	checkRecord(t, site.waitRecorded(1)[0], "reject_all", false, false)
	waitJS(t, ctx, in(".i")+` && crumb.get().id`)
	if !eval[bool](t, ctx, focused+` === `+in(".i")) {
		t.Fatalf("after Enter on Reject all focus is on %s, want the cookie icon", eval[string](t, ctx, focused+`?.outerHTML`))
	}

	// Enter reopens Settings; Reject all and Save come before Erase in the
	// Tab order.
	keys(t, ctx, kb.Enter)
	waitJS(t, ctx, in("dialog[open] .id"))
	seen = nil
	for range 20 {
		keys(t, ctx, kb.Tab)
		seen = append(seen, eval[string](t, ctx, focused+`.textContent`))
	}
	erase, reject, save := slices.Index(seen, "Erase my record"), slices.Index(seen, "Reject all"), slices.Index(seen, "Save choices")
	if erase < 0 || reject < 0 || save < 0 || erase < reject || erase < save {
		t.Errorf("Tab in the reopened Settings visits %v: Erase must come after Reject all and Save", seen)
	}
}

func TestNarrowScreenAndReducedMotion(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	do(t, ctx, chromedp.EmulateViewport(320, 568))
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}},
	}); err != nil {
		t.Fatal(err)
	}
	open(t, ctx, site.url("/index.html"))
	waitJS(t, ctx, in(".b"))
	box := eval[map[string]float64](t, ctx, `(b => { const r = b.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, scroll: b.scrollWidth - b.clientWidth} })(`+in(".b")+`)`)
	if box["left"] < 0 || box["right"] > 320 || box["top"] < 0 || box["scroll"] > 0 {
		t.Errorf("at 320 px the banner spans %v: it must fit without sideways scrolling", box)
	}
	if got := eval[string](t, ctx, `getComputedStyle(`+in(".b")+`).animationName`); got != "none" {
		t.Errorf("with reduced motion the banner animates (%s)", got)
	}
	// Every button is reachable and usable at this width.
	click(t, ctx, in(".bs .s"))
	waitJS(t, ctx, in("dialog[open]"))
	if got := eval[float64](t, ctx, `(d => d.scrollWidth - d.clientWidth)(`+in(".bd")+`)`); got > 0 {
		t.Errorf("at 320 px Settings scrolls sideways by %v px", got)
	}
	click(t, ctx, in(".ft .r"))
	checkRecord(t, site.waitRecorded(1)[0], "reject_all", false, false)
}

func TestSwedishFromHTMLLang(t *testing.T) {
	site := newTestSite(t, mustBuild(t), testConfig())
	ctx := browsertest.Tab(t)
	open(t, ctx, site.url("/sv.html")) // <html lang="sv-SE">
	waitJS(t, ctx, in(".b"))
	got := eval[[]string](t, ctx, `[`+in("#ct")+`.textContent, ...[...`+in(".bs")+`.children].map(b => b.textContent)]`)
	if want := []string{"Vi använder kakor", "Acceptera alla", "Avvisa alla", "Inställningar"}; !slices.Equal(got, want) {
		t.Errorf("texts = %v, want %v", got, want)
	}
	if text := eval[string](t, ctx, in(".b")+`.textContent`); !contains(text, "Nödvändiga") || !contains(text, "längst ned till vänster") || !contains(text, "Personuppgiftsansvarig: Fixture AB") {
		t.Errorf("banner is not all Swedish: %s", text)
	}
	click(t, ctx, in(".bs .a"))
	if rec := site.waitRecorded(1)[0]; rec.Language != "sv" {
		t.Errorf("recorded language %q, want sv", rec.Language)
	}
}

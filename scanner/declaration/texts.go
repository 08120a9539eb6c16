package declaration

import (
	"fmt"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/crumbhq/crumb/scanner"
)

// texts holds the declaration's fixed wording by language.
var texts = map[string]map[string]string{
	"sv": {
		"title":           "Kakor och lagring på webbplatsen",
		"scanned":         "Förteckningen bygger på en genomsökning av %s den %s.",
		"unscanned":       "Förteckningen bygger på webbplatsens egna uppgifter; den har ännu inte kontrollerats med en genomsökning.",
		"name":            "Namn",
		"provider":        "Leverantör",
		"purpose":         "Syfte",
		"lifetime":        "Lagringstid",
		"kind":            "Typ",
		"party":           "Part",
		"no_purpose":      "Syftet är ännu inte fastställt.",
		"first":           "Första part",
		"third":           "Tredje part",
		"third_of":        "Tredje part (%s)",
		"shared":          "Första part, läses av %s",
		"unknown":         "Okänd",
		"cookie":          "Kaka (cookie)",
		"local":           "Lokal lagring",
		"session":         "Sessionslagring",
		"indexeddb":       "IndexedDB",
		"empty":           "Webbplatsen lagrar ingenting i din webbläsare.",
		"necessary":       "Nödvändiga",
		"necessary.d":     "Krävs för att webbplatsen och tjänster du själv begär ska fungera. De används utan samtycke.",
		"analytics":       "Statistik",
		"analytics.d":     "Hjälper oss att förstå hur webbplatsen används. De används bara om du samtycker.",
		"marketing":       "Marknadsföring",
		"marketing.d":     "Används för annonser och för att känna igen dig på andra webbplatser. De används bara om du samtycker.",
		"unclassified":    "Ännu inte klassificerade (granskas)",
		"unclassified.d":  "Vi har ännu inte fastställt syftet med dessa. En föreslagen kategori är en obekräftad bedömning som vi ska granska.",
		"proposed":        "Föreslagen kategori, ännu inte bekräftad: %s.",
		"site":            "Webbplatsen",
		"site_with":       "%s (med %s)",
		"analytics.d.pre": "Hjälper oss att förstå hur webbplatsen används. De kräver ditt samtycke.",
		"marketing.d.pre": "Används för annonser och för att känna igen dig på andra webbplatser. De kräver ditt samtycke.",
		"pre_consent":     "Obs! Vid genomsökningen sattes följande redan innan något samtycke hade getts, vilket är ett fel som ska rättas: %s.",
	},
	"en": {
		"title":           "Cookies and storage on this website",
		"scanned":         "This list is based on a scan of %s on %s.",
		"unscanned":       "This list is what the website itself declares; it has not yet been checked by a scan.",
		"name":            "Name",
		"provider":        "Provider",
		"purpose":         "Purpose",
		"lifetime":        "Lifetime",
		"kind":            "Type",
		"party":           "Party",
		"no_purpose":      "Purpose not yet established.",
		"first":           "First party",
		"third":           "Third party",
		"third_of":        "Third party (%s)",
		"shared":          "First party, read by %s",
		"unknown":         "Unknown",
		"cookie":          "Cookie",
		"local":           "Local storage",
		"session":         "Session storage",
		"indexeddb":       "IndexedDB",
		"empty":           "This website stores nothing in your browser.",
		"necessary":       "Necessary",
		"necessary.d":     "Needed for the website and for services you ask for to work. They are used without consent.",
		"analytics":       "Statistics",
		"analytics.d":     "These help us understand how the website is used. They are used only if you consent.",
		"marketing":       "Marketing",
		"marketing.d":     "Used for advertising and to recognise you on other websites. They are used only if you consent.",
		"unclassified":    "Not yet classified (under review)",
		"unclassified.d":  "We have not yet established what these are for. A proposed category is an unconfirmed assessment that we will review.",
		"proposed":        "Proposed category, not yet confirmed: %s.",
		"site":            "This website",
		"site_with":       "%s (using %s)",
		"analytics.d.pre": "These help us understand how the website is used. They require your consent.",
		"marketing.d.pre": "Used for advertising and to recognise you on other websites. They require your consent.",
		"pre_consent":     "Note: the scan found the following set before any consent was given, which is an error to be fixed: %s.",
	},
}

// NoPurpose is how the declaration, in lang, says an item's purpose is
// not yet established; "" for a language it has no texts in. The banner's
// tables say the same for scanned rows without a purpose.
func NoPurpose(lang string) string { return texts[lang]["no_purpose"] }

// genericProvider is the knowledge base's provider of names several web
// frameworks use (platforms.kb): it names no one, so the declaration
// never shows it.
const genericProvider = "Web framework (a name several frameworks use)"

// ProviderText is how the declaration in lang names who answers for r, a
// row of a table of category cat, with controller the site owner's name
// (Options.Controller); "" for a language it has no texts in. The
// banner's tables name the rows of a scan the same way.
func ProviderText(lang string, r Row, cat scanner.Category, controller string) string {
	t := texts[lang]
	if t == nil {
		return ""
	}
	return providerText(t, r, cat, controller)
}

// providerText names who answers for a row in the declaration's language.
// A provider the site's configuration wrote stands as written. The site's
// own items (first party, and no third party's script wrote them) are the
// site owner's, named controller or else "the website": with the product
// that sets a necessary one named after it ("Norrsken AB (med crumb)"),
// or alone when the knowledge base names none or only a generic one. A
// bare host is never shown as a provider: the party column names the
// domain, and a row nobody is known to provide says so.
func providerText(t map[string]string, r Row, cat scanner.Category, controller string) string {
	p := strings.TrimSpace(r.Provider)
	if r.Declared && p != "" && !strings.EqualFold(p, r.Domain) {
		return p
	}
	if strings.EqualFold(p, r.Domain) || strings.EqualFold(p, registrable(r.Domain)) || p == genericProvider {
		p = ""
	}
	if r.Party == scanner.FirstParty && r.SharedWith == "" {
		site := strings.TrimSpace(controller)
		if site == "" {
			site = t["site"]
		}
		switch {
		case p == "":
			return site
		case cat == scanner.Necessary:
			return fmt.Sprintf(t["site_with"], site, p)
		}
		return p
	}
	if p == "" {
		return t["unknown"]
	}
	return p
}

func kindText(t map[string]string, k scanner.Kind) string {
	switch k {
	case scanner.LocalStorage:
		return t["local"]
	case scanner.SessionStorage:
		return t["session"]
	case scanner.IndexedDB:
		return t["indexeddb"]
	}
	return t["cookie"]
}

// partyText says whose an item is: first party (and which third party's
// script reads it), or third party and which, by the registrable domain of
// domain, as "Tredje part (doubleclick.net)".
func partyText(t map[string]string, p scanner.Party, sharedWith, domain string) string {
	switch p {
	case scanner.FirstParty:
		if sharedWith != "" {
			return fmt.Sprintf(t["shared"], sharedWith)
		}
		return t["first"]
	case scanner.ThirdParty:
		if d := registrable(domain); d != "" {
			return fmt.Sprintf(t["third_of"], d)
		}
		return t["third"]
	}
	return t["unknown"]
}

// registrable returns the registrable domain (eTLD+1) of a cookie domain
// or host, the host itself when it has none (an IP address, a bare public
// suffix), or "" for none.
func registrable(domain string) string {
	host := strings.ToLower(strings.Trim(strings.TrimSpace(domain), "."))
	if host == "" {
		return ""
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}

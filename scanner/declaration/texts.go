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
		"title":          "Kakor och lagring på webbplatsen",
		"scanned":        "Förteckningen bygger på en genomsökning av %s den %s.",
		"unscanned":      "Förteckningen bygger på webbplatsens egna uppgifter; den har ännu inte kontrollerats med en genomsökning.",
		"name":           "Namn",
		"provider":       "Leverantör",
		"purpose":        "Syfte",
		"lifetime":       "Lagringstid",
		"kind":           "Typ",
		"party":          "Part",
		"no_purpose":     "Syftet är ännu inte fastställt.",
		"first":          "Första part",
		"third":          "Tredje part",
		"third_of":       "Tredje part (%s)",
		"shared":         "Första part, läses av %s",
		"unknown":        "Okänd",
		"cookie":         "Kaka (cookie)",
		"local":          "Lokal lagring",
		"session":        "Sessionslagring",
		"indexeddb":      "IndexedDB",
		"empty":          "Webbplatsen lagrar ingenting i din webbläsare.",
		"necessary":      "Nödvändiga",
		"necessary.d":    "Krävs för att webbplatsen och tjänster du själv begär ska fungera. De används utan samtycke.",
		"analytics":      "Statistik",
		"analytics.d":    "Hjälper oss att förstå hur webbplatsen används. De används bara om du samtycker.",
		"marketing":      "Marknadsföring",
		"marketing.d":    "Används för annonser och för att känna igen dig på andra webbplatser. De används bara om du samtycker.",
		"unclassified":   "Ännu inte klassificerade (granskas)",
		"unclassified.d": "Vi har ännu inte fastställt syftet med dessa. En föreslagen kategori är en obekräftad bedömning som vi ska granska.",
		"proposed":       "Föreslagen kategori, ännu inte bekräftad: %s.",
	},
	"en": {
		"title":          "Cookies and storage on this website",
		"scanned":        "This list is based on a scan of %s on %s.",
		"unscanned":      "This list is what the website itself declares; it has not yet been checked by a scan.",
		"name":           "Name",
		"provider":       "Provider",
		"purpose":        "Purpose",
		"lifetime":       "Lifetime",
		"kind":           "Type",
		"party":          "Party",
		"no_purpose":     "Purpose not yet established.",
		"first":          "First party",
		"third":          "Third party",
		"third_of":       "Third party (%s)",
		"shared":         "First party, read by %s",
		"unknown":        "Unknown",
		"cookie":         "Cookie",
		"local":          "Local storage",
		"session":        "Session storage",
		"indexeddb":      "IndexedDB",
		"empty":          "This website stores nothing in your browser.",
		"necessary":      "Necessary",
		"necessary.d":    "Needed for the website and for services you ask for to work. They are used without consent.",
		"analytics":      "Statistics",
		"analytics.d":    "These help us understand how the website is used. They are used only if you consent.",
		"marketing":      "Marketing",
		"marketing.d":    "Used for advertising and to recognise you on other websites. They are used only if you consent.",
		"unclassified":   "Not yet classified (under review)",
		"unclassified.d": "We have not yet established what these are for. A proposed category is an unconfirmed assessment that we will review.",
		"proposed":       "Proposed category, not yet confirmed: %s.",
	},
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

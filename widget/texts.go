package widget

import "maps"

// Languages are the languages whose texts are built in.
var Languages = []string{"sv", "en"}

// DefaultTexts returns a copy of the built-in texts for lang, keyed by text
// id, and whether lang is built in. A site's configured texts override these
// key by key.
func DefaultTexts(lang string) (map[string]string, bool) {
	t, ok := defaultTexts[lang]
	return maps.Clone(t), ok
}

// TextKeys reports whether key is a text id the banner uses; the service
// rejects configured texts with unknown keys.
func TextKeys(key string) bool {
	_, ok := defaultTexts["en"][key]
	return ok
}

// defaultTexts are the built-in texts: plain, neutral wording that neither
// favours nor discourages any choice (R13). Placeholders in braces are
// filled in by Bundle.Script, {corner} (corner_left or corner_right, after
// the site's icon_position) and {name} (the controller), and by the banner, {n} (a number of cookies),
// {categories} and {category} (category names), {host} (an embed's host).
var defaultTexts = map[string]map[string]string{
	"sv": {
		"title":                   "Vi använder kakor",
		"body":                    "Vi använder nödvändiga kakor för att webbplatsen ska fungera och andra kakor bara om du godkänner dem.",
		"withdraw":                "Du kan när som helst ändra eller återkalla ditt samtycke via ikonen med kakan {corner}.",
		"corner_left":             "längst ned till vänster på sidan",
		"corner_right":            "längst ned till höger på sidan",
		"controller":              "Personuppgiftsansvarig: {name}",
		"privacy_link":            "Integritetspolicy",
		"accept_all":              "Acceptera alla",
		"reject_all":              "Avvisa alla",
		"settings":                "Inställningar",
		"settings_title":          "Inställningar för kakor",
		"settings_intro":          "Välj vilka kakor vi får använda. Nödvändiga kakor går inte att stänga av. Du kan ändra ditt val när som helst.",
		"save":                    "Spara val",
		"close":                   "Stäng",
		"necessary_locked":        "Alltid på: webbplatsen fungerar inte utan dessa kakor.",
		"cookies_show":            "Visa kakor ({n})",
		"col_name":                "Namn",
		"col_provider":            "Leverantör",
		"col_purpose":             "Syfte",
		"col_expiry":              "Lagringstid",
		"col_party":               "Part",
		"party_first":             "Första part",
		"party_third":             "Tredje part",
		"party_shared":            "Första part, läses av leverantören",
		"consent_id":              "Ditt samtyckes-ID:",
		"export":                  "Ladda ned mina uppgifter",
		"erase":                   "Radera mina uppgifter",
		"erased":                  "Dina uppgifter om samtycke är raderade.",
		"error":                   "Det gick inte att nå servern. Försök igen senare.",
		"gpc_notice":              "Din webbläsare skickar signalen Global Privacy Control (GPC). Därför har vi stängt av: {categories}.",
		"placeholder_text":        "Innehållet kommer från {host}. För att visa det behöver du godkänna kategorin {category} på hela webbplatsen.",
		"placeholder_button":      "Godkänn och visa",
		"icon_label":              "Inställningar för kakor",
		"category_necessary_name": "Nödvändiga",
		"category_necessary_desc": "Krävs för att webbplatsen ska fungera, till exempel för att komma ihåg ditt val om kakor.",
		"category_analytics_name": "Statistik",
		"category_analytics_desc": "Hjälper oss att förstå hur webbplatsen används, så att vi kan förbättra den.",
		"category_marketing_name": "Marknadsföring",
		"category_marketing_desc": "Används för att visa annonser och mäta hur de fungerar, även på andra webbplatser.",
	},
	"en": {
		"title":                   "We use cookies",
		"body":                    "We use necessary cookies to make this website work, and other cookies only if you accept them.",
		"withdraw":                "You can change or withdraw your consent at any time with the cookie icon {corner}.",
		"corner_left":             "in the lower-left corner of the page",
		"corner_right":            "in the lower-right corner of the page",
		"controller":              "Data controller: {name}",
		"privacy_link":            "Privacy policy",
		"accept_all":              "Accept all",
		"reject_all":              "Reject all",
		"settings":                "Settings",
		"settings_title":          "Cookie settings",
		"settings_intro":          "Choose which cookies we may use. Necessary cookies cannot be turned off. You can change your choice at any time.",
		"save":                    "Save choices",
		"close":                   "Close",
		"necessary_locked":        "Always on: the website does not work without these cookies.",
		"cookies_show":            "Show cookies ({n})",
		"col_name":                "Name",
		"col_provider":            "Provider",
		"col_purpose":             "Purpose",
		"col_expiry":              "Expiry",
		"col_party":               "Party",
		"party_first":             "First party",
		"party_third":             "Third party",
		"party_shared":            "First party, read by the provider",
		"consent_id":              "Your consent ID:",
		"export":                  "Download my record",
		"erase":                   "Erase my record",
		"erased":                  "Your consent record has been erased.",
		"error":                   "Could not reach the server. Please try again later.",
		"gpc_notice":              "Your browser sends the Global Privacy Control (GPC) signal, so we have turned off: {categories}.",
		"placeholder_text":        "This content comes from {host}. To show it, you need to accept the category {category} on the whole website.",
		"placeholder_button":      "Accept and show",
		"icon_label":              "Cookie settings",
		"category_necessary_name": "Necessary",
		"category_necessary_desc": "Required for the website to work, for example to remember your cookie choice.",
		"category_analytics_name": "Statistics",
		"category_analytics_desc": "Helps us understand how the website is used, so that we can improve it.",
		"category_marketing_name": "Marketing",
		"category_marketing_desc": "Used to show ads and measure how they perform, also on other websites.",
	},
}

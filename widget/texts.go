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

// defaultTexts is being written with the banner; these keys are the
// contract with the service's configuration.
var defaultTexts = map[string]map[string]string{
	"sv": {
		"title":                   "Vi använder kakor",
		"body":                    "Vi använder nödvändiga kakor för att webbplatsen ska fungera. Med ditt samtycke använder vi också kakor för statistik och marknadsföring.",
		"withdraw":                "Du kan när som helst ändra eller återkalla ditt samtycke via kakikonen längst ned till vänster.",
		"privacy_link":            "Integritetspolicy",
		"accept_all":              "Acceptera alla",
		"reject_all":              "Avvisa alla",
		"settings":                "Inställningar",
		"category_necessary_name": "Nödvändiga",
		"category_necessary_desc": "Krävs för att webbplatsen ska fungera, till exempel för att komma ihåg ditt val.",
		"category_analytics_name": "Statistik",
		"category_analytics_desc": "Hjälper oss förstå hur webbplatsen används.",
		"category_marketing_name": "Marknadsföring",
		"category_marketing_desc": "Används för att visa relevanta annonser och mäta kampanjer.",
	},
	"en": {
		"title":                   "We use cookies",
		"body":                    "We use necessary cookies to make this website work. With your consent we also use cookies for statistics and marketing.",
		"withdraw":                "You can change or withdraw your consent at any time with the cookie icon in the lower-left corner.",
		"privacy_link":            "Privacy policy",
		"accept_all":              "Accept all",
		"reject_all":              "Reject all",
		"settings":                "Settings",
		"category_necessary_name": "Necessary",
		"category_necessary_desc": "Required for the website to work, for example to remember your choice.",
		"category_analytics_name": "Statistics",
		"category_analytics_desc": "Help us understand how the website is used.",
		"category_marketing_name": "Marketing",
		"category_marketing_desc": "Used to show relevant ads and measure campaigns.",
	},
}

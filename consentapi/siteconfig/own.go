package siteconfig

import (
	"slices"

	"github.com/crumbhq/crumb/scanner/declaration"
)

// crumb's own storage on the visitor's device, which every site's
// necessary category lists (R4): the consent cookie, and the item that
// holds a decision the API has not yet received.
const (
	ConsentCookie = "crumb_consent"
	PendingItem   = "crumb_pending"
)

// ownTexts are the purposes and lifetimes of crumb's own storage; other
// languages than sv get the English ones.
var ownTexts = map[string]map[string]string{
	"sv": {
		"consent":         "Sparar ditt val om kakor så att frågan inte visas på varje sida.",
		"pending":         "Håller ditt val tills det har nått webbplatsens server, om anslutningen bröts.",
		"pending_expires": "tills valet har skickats",
	},
	"en": {
		"consent":         "Stores your cookie choice so that you are not asked on every page.",
		"pending":         "Holds your choice until it has reached the website's server, if the connection failed.",
		"pending_expires": "until the choice has been sent",
	},
}

// addOwnStorage puts crumb's own storage first in the necessary category
// of s, unless the site lists it already (its own wording wins).
func addOwnStorage(s *Site) {
	i := slices.IndexFunc(s.Categories, func(c Category) bool { return c.ID == "necessary" })
	if i < 0 {
		return
	}
	nec := &s.Categories[i]
	listed := func(name string) bool {
		return slices.ContainsFunc(nec.Cookies, func(c Cookie) bool { return c.Name == name })
	}
	var own []Cookie
	if !listed(ConsentCookie) {
		own = append(own, s.ownRow(ConsentCookie, "cookie", "consent", func(lang string) string {
			return declaration.Lifetime(s.Validity.Std(), false, lang)
		}))
	}
	if !listed(PendingItem) {
		own = append(own, s.ownRow(PendingItem, "localStorage", "pending", func(lang string) string {
			return textOf(lang, "pending_expires")
		}))
	}
	nec.Cookies = append(own, nec.Cookies...)
}

func (s *Site) ownRow(name, kind, purpose string, expiry func(lang string) string) Cookie {
	c := Cookie{Name: name, Provider: s.Name, Party: "first", Kind: kind, Purpose: map[string]string{}, Expiry: map[string]string{}}
	for _, lang := range s.Languages {
		c.Purpose[lang] = textOf(lang, purpose)
		c.Expiry[lang] = expiry(lang)
	}
	return c
}

func textOf(lang, key string) string {
	if t, ok := ownTexts[lang]; ok {
		return t[key]
	}
	return ownTexts["en"][key]
}

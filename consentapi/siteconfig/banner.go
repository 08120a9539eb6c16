package siteconfig

import (
	"maps"
	"strings"

	"github.com/crumbhq/crumb/widget"
)

// Banner returns the site's banner as the widget renders it: texts are the
// built-in ones overridden by the site's, category names and descriptions
// and cookie tables are resolved for every language, and the theme is
// resolved. API is the site's api setting and Banner is left empty: the
// consent service hashes the rest into it.
func (s *Site) Banner() widget.Config {
	cfg := widget.Config{
		Site:             s.ID,
		Name:             s.Name,
		API:              s.API,
		Revision:         s.Revision,
		Validity:         s.Validity.Seconds(),
		PrivacyPolicyURL: s.PrivacyPolicyURL,
		Languages:        append([]string(nil), s.Languages...),
		Texts:            map[string]map[string]string{},
		Theme:            s.Theme.Resolved(),
		CookieDomain:     strings.TrimPrefix(s.CookieDomain, "."),
		GPC:              append([]string(nil), s.GPC...),
		ReloadOnWithdraw: s.ReloadOnWithdraw,
		IconPosition:     s.IconPosition,
		NoImpressions:    s.CountImpressions != nil && !*s.CountImpressions,
	}
	for _, lang := range s.Languages {
		cfg.Texts[lang] = resolvedTexts(s, lang)
	}
	for _, c := range s.Categories {
		wc := widget.Category{
			ID:          c.ID,
			Locked:      c.ID == "necessary",
			Name:        map[string]string{},
			Description: map[string]string{},
		}
		for _, lang := range s.Languages {
			wc.Name[lang] = resolveCategoryText(s, c, lang, "name")
			wc.Description[lang] = resolveCategoryText(s, c, lang, "desc")
		}
		for _, ck := range c.Cookies {
			kind := ck.Kind
			if kind == "" {
				kind = "cookie"
			}
			wc.Cookies = append(wc.Cookies, widget.Cookie{
				Name:     ck.Name,
				Pattern:  strings.Contains(ck.Name, "*"),
				Provider: ck.Provider,
				Purpose:  maps.Clone(ck.Purpose),
				Expiry:   maps.Clone(ck.Expiry),
				Party:    ck.Party,
				Domain:   ck.Domain,
				Kind:     kind,
			})
		}
		cfg.Categories = append(cfg.Categories, wc)
	}
	return cfg
}

// resolvedTexts returns the built-in texts of lang overridden by the site's.
func resolvedTexts(s *Site, lang string) map[string]string {
	t, _ := widget.DefaultTexts(lang)
	if t == nil {
		t = map[string]string{}
	}
	maps.Copy(t, s.Texts[lang])
	return t
}

// resolveCategoryText returns a category's name (what="name") or
// description (what="desc") in lang: the category's own setting, else the
// site's or built-in text category_<id>_<what>; "" when there is none.
func resolveCategoryText(s *Site, c Category, lang, what string) string {
	own := c.Name
	if what == "desc" {
		own = c.Description
	}
	if v := strings.TrimSpace(own[lang]); v != "" {
		return v
	}
	key := "category_" + c.ID + "_" + what
	if v := s.Texts[lang][key]; v != "" {
		return v
	}
	t, _ := widget.DefaultTexts(lang)
	return t[key]
}

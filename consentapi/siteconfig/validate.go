package siteconfig

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
	"github.com/crumbhq/crumb/widget"
)

var (
	siteIDPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	languagePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z]{2})?$`)
	domainPattern   = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// checker collects the problems of one site.
type checker struct {
	file, site string
	problems   []Problem
}

func (c *checker) addf(field, format string, a ...any) {
	c.problems = append(c.problems, Problem{File: c.file, Site: c.site, Field: field, Message: fmt.Sprintf(format, a...)})
}

func (c *Config) validate() error {
	var problems []Problem
	if len(c.Sites) == 0 {
		problems = append(problems, Problem{File: c.Path, Field: "sites", Message: "no sites: list at least one site"})
	}
	seen := map[string]bool{}
	for i := range c.Sites {
		s := &c.Sites[i]
		ck := &checker{file: c.Path, site: s.ID}
		if s.ID == "" {
			ck.site = fmt.Sprintf("#%d", i+1)
		}
		if seen[s.ID] && s.ID != "" {
			ck.addf("id", "used by an earlier site too; site ids must be unique")
		}
		seen[s.ID] = true
		ck.checkSite(s)
		problems = append(problems, ck.problems...)
	}
	if len(problems) > 0 {
		return &Error{Problems: problems}
	}
	return nil
}

func (c *checker) checkSite(s *Site) {
	if !siteIDPattern.MatchString(s.ID) {
		c.addf("id", "%q: want 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit", s.ID)
	}
	if strings.TrimSpace(s.Name) == "" {
		c.addf("name", "missing: the controller's name is shown in the banner")
	}
	if len(s.Origins) == 0 {
		c.addf("origins", "missing: list the origins (https://www.example.com) whose pages call the API")
	}
	for i, o := range s.Origins {
		if err := checkOrigin(o); err != nil {
			c.addf(fmt.Sprintf("origins[%d]", i), "%v", err)
		}
	}
	if s.API != "" {
		if err := checkLink(s.API); err != nil {
			c.addf("api", "%v", err)
		} else if strings.HasSuffix(s.API, "/") {
			c.addf("api", "%q: leave out the trailing slash", s.API)
		}
	}
	if s.PrivacyPolicyURL == "" {
		c.addf("privacy_policy_url", "missing: the banner must link to the privacy policy")
	} else if err := checkLink(s.PrivacyPolicyURL); err != nil {
		c.addf("privacy_policy_url", "%v", err)
	}
	c.languages(s)
	if s.Revision < 1 {
		c.addf("revision", "%d: must be 1 or more", s.Revision)
	}
	if s.Validity.Std() < Day {
		c.addf("validity", "must be at least 1d")
	}
	if s.Retention < s.Validity {
		c.addf("retention", "shorter than validity: proof of a choice must be kept at least as long as the choice lasts")
	}
	if s.CookieDomain != "" {
		c.cookieDomain(s)
	}
	if s.IconPosition != "bottom-left" && s.IconPosition != "bottom-right" {
		c.addf("icon_position", "%q: want bottom-left or bottom-right", s.IconPosition)
	}
	if err := s.Theme.Validate(); err != nil {
		var te *widget.ThemeError
		if errors.As(err, &te) {
			if fg, bg, ok := contrastPair(s.Theme, te.Field); ok && strings.Contains(te.Reason, "contrast") {
				// Either colour of the pair may be the one to change.
				c.addf("theme", "%s on %s: %s; change either colour", fg, bg, te.Reason)
			} else {
				c.addf("theme."+te.Field, "%s", te.Reason)
			}
		} else {
			c.addf("theme", "%v", err)
		}
	}
	c.texts(s)
	c.categories(s)
	c.scan(s)
	for i, g := range s.GPC {
		switch {
		case g == "necessary":
			c.addf(fmt.Sprintf("gpc[%d]", i), "necessary cannot be refused")
		case !hasCategory(s.Categories, g):
			c.addf(fmt.Sprintf("gpc[%d]", i), "%q is not a category of this site", g)
		}
	}
}

// contrastPair names the theme fields of the text colour fg (a field of
// widget.ThemeError) and of the background it is drawn on, as the site
// set them: a colour the site left out is named as the field it comes from
// ("accept_text (from button_text)") or as the default.
func contrastPair(t widget.Theme, fg string) (text, background string, ok bool) {
	set := map[string]string{
		"background": t.Background, "text": t.Text, "link": t.Link,
		"button_background": t.ButtonBackground, "button_text": t.ButtonText,
		"accept_background": t.AcceptBackground, "accept_text": t.AcceptText,
		"reject_background": t.RejectBackground, "reject_text": t.RejectText,
	}
	// Where an unset field takes its colour from (widget.Theme.Resolved).
	from := map[string]string{
		"accept_background": "button_background", "reject_background": "button_background",
		"accept_text": "button_text", "reject_text": "button_text",
	}
	name := func(f string) string {
		for g := f; ; {
			switch {
			case strings.TrimSpace(set[g]) != "" && g == f:
				return f
			case strings.TrimSpace(set[g]) != "":
				return fmt.Sprintf("%s (from %s)", f, g)
			case from[g] == "":
				return fmt.Sprintf("%s (the default)", f)
			}
			g = from[g]
		}
	}
	bg, known := map[string]string{
		"text": "background", "link": "background", "button_text": "button_background",
		"accept_text": "accept_background", "reject_text": "reject_background",
	}[fg]
	if !known {
		return "", "", false
	}
	return name(fg), name(bg), true
}

// checkOrigin accepts scheme://host[:port] with https, or http for loopback
// hosts only (local development).
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q: want scheme://host[:port], e.g. https://www.example.com", o)
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q: an origin is scheme://host[:port] only, without path, query or user", o)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: use https (http is allowed for localhost only)", o)
	default:
		return fmt.Errorf("%q: scheme must be https", o)
	}
}

// checkLink accepts an https URL, an http URL on a loopback host, or a path
// relative to the site ("/privacy").
func checkLink(l string) error {
	if strings.HasPrefix(l, "/") && !strings.HasPrefix(l, "//") {
		if _, err := url.Parse(l); err != nil {
			return fmt.Errorf("%q: not a valid path", l)
		}
		return nil
	}
	u, err := url.Parse(l)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q: want an https URL or a path starting with /", l)
	}
	if u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("%q: want an https URL or a path starting with /", l)
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *checker) languages(s *Site) {
	if len(s.Languages) == 0 {
		c.addf("languages", "empty: list at least one language")
	}
	for i, l := range s.Languages {
		if !languagePattern.MatchString(l) {
			c.addf(fmt.Sprintf("languages[%d]", i), "%q: want a language code such as sv or en", l)
		}
		if slices.Index(s.Languages, l) != i {
			c.addf(fmt.Sprintf("languages[%d]", i), "%q is listed twice", l)
		}
	}
}

func (c *checker) cookieDomain(s *Site) {
	d := strings.TrimPrefix(s.CookieDomain, ".")
	if !domainPattern.MatchString(d) {
		c.addf("cookie_domain", "%q: want a domain such as example.com", s.CookieDomain)
		return
	}
	for _, o := range s.Origins {
		u, err := url.Parse(o)
		if err != nil || isLoopback(u.Hostname()) {
			continue
		}
		if h := u.Hostname(); h != d && !strings.HasSuffix(h, "."+d) {
			c.addf("cookie_domain", "%q does not cover origin %s; a browser would refuse the cookie", s.CookieDomain, o)
		}
	}
}

// texts checks configured texts: known languages and keys, and complete
// texts for languages without built-in ones.
func (c *checker) texts(s *Site) {
	for _, lang := range slices.Sorted(maps.Keys(s.Texts)) {
		texts := s.Texts[lang]
		if !slices.Contains(s.Languages, lang) {
			c.addf("texts."+lang, "%q is not one of the site's languages", lang)
			continue
		}
		for _, key := range slices.Sorted(maps.Keys(texts)) {
			if !widget.TextKeys(key) {
				c.addf("texts."+lang+"."+key, "unknown text key")
			} else if strings.TrimSpace(texts[key]) == "" {
				c.addf("texts."+lang+"."+key, "empty text")
			} else if msg := checkText(key, texts[key]); msg != "" {
				c.addf("texts."+lang+"."+key, "%s", msg)
			}
		}
	}
	all, _ := widget.DefaultTexts("en")
	for _, lang := range s.Languages {
		if _, builtIn := widget.DefaultTexts(lang); builtIn {
			continue
		}
		for _, key := range slices.Sorted(maps.Keys(all)) {
			if _, ok := s.Texts[lang][key]; !ok && !strings.HasPrefix(key, "category_") {
				c.addf("texts."+lang+"."+key, "missing: %q has no built-in texts, so every text must be given", lang)
			}
		}
	}
}

// placeholders are the texts that must keep a placeholder: what it says is
// what the text is for (R10: how to withdraw; R44: which category an embed
// needs; the categories GPC turned off).
var placeholders = map[string]string{
	"withdraw":         "{corner}",
	"placeholder_text": "{category}",
	"gpc_notice":       "{categories}",
}

// buttonTexts are the first layer's and the settings' buttons, which must
// be words a visitor can read as the choice they make (R6, R7).
var buttonTexts = map[string]bool{"accept_all": true, "reject_all": true, "settings": true, "save": true}

// maxButton is the longest button label: a choice, not a sales pitch (R13).
const maxButton = 40

// checkText names what is wrong with a configured text, "" if nothing.
func checkText(key, text string) string {
	if p, ok := placeholders[key]; ok && !strings.Contains(text, p) {
		return fmt.Sprintf("must contain %s, which the banner fills in", p)
	}
	if buttonTexts[key] {
		letters := 0
		for _, r := range text {
			if unicode.IsLetter(r) {
				letters++
			}
		}
		switch n := utf8.RuneCountInString(text); {
		case letters < 2:
			return "a button needs a label in words"
		case n > maxButton:
			return fmt.Sprintf("%d characters: a button label is at most %d, a plain statement of the choice", n, maxButton)
		}
	}
	return ""
}

func (c *checker) categories(s *Site) {
	seen := map[string]bool{}
	// Where each cookie name (by kind) is listed first: a cookie belongs
	// to one category, and the banner and declaration list it once.
	type place struct {
		field, category string
	}
	listed := map[string]place{}
	for i, cat := range s.Categories {
		f := fmt.Sprintf("categories[%d]", i)
		switch {
		case !scanner.Category(cat.ID).Valid():
			c.addf(f+".id", "%q: want 1-32 characters of a-z, 0-9 and '_', starting with a letter", cat.ID)
		case cat.ID == string(scanner.Unclassified):
			c.addf(f+".id", "unclassified is the scanner's verdict for unknown items, not a category visitors can grant")
		case seen[cat.ID]:
			c.addf(f+".id", "%q is listed twice", cat.ID)
		}
		seen[cat.ID] = true
		for _, lang := range slices.Compact(slices.Clone(s.Languages)) {
			if resolveCategoryText(s, cat, lang, "name") == "" {
				c.addf(f+".name."+lang, "missing: a category of your own needs a name in every site language")
			}
			if resolveCategoryText(s, cat, lang, "desc") == "" {
				c.addf(f+".description."+lang, "missing: a category of your own needs a description in every site language")
			}
		}
		c.byLanguage(s, f+".name", cat.Name)
		c.byLanguage(s, f+".description", cat.Description)
		for j, ck := range cat.Cookies {
			cf := fmt.Sprintf("%s.cookies[%d]", f, j)
			c.cookie(s, cf, ck)
			if cat.ID == string(scanner.Necessary) {
				c.necessaryCookie(cf, ck)
			}
			kind := ck.Kind
			if kind == "" {
				kind = string(scanner.Cookie)
			}
			key := kind + "\x00" + strings.TrimSpace(ck.Name)
			if strings.TrimSpace(ck.Name) == "" {
				continue
			}
			if p, dup := listed[key]; dup && p.category == cat.ID {
				c.addf(cf+".name", "%q is listed twice in category %s (also %s)", ck.Name, cat.ID, p.field)
			} else if dup {
				c.addf(cf+".name", "%q is listed under both %s (%s) and %s: a cookie belongs to one category; keep the one it is used for", ck.Name, p.category, p.field, cat.ID)
			} else {
				listed[key] = place{cf, cat.ID}
			}
		}
	}
}

func (c *checker) cookie(s *Site, f string, ck Cookie) {
	if strings.TrimSpace(ck.Name) == "" {
		c.addf(f+".name", "missing")
	}
	for _, lang := range slices.Compact(slices.Clone(s.Languages)) {
		if strings.TrimSpace(ck.Purpose[lang]) == "" {
			c.addf(f+".purpose."+lang, "missing: the cookie table states each cookie's purpose in every site language")
		}
	}
	if len(ck.Expiry) > 0 {
		for _, lang := range slices.Compact(slices.Clone(s.Languages)) {
			if strings.TrimSpace(ck.Expiry[lang]) == "" {
				c.addf(f+".expiry."+lang, "missing: the cookie table states a lifetime given in one language in every site language")
			}
		}
	}
	c.byLanguage(s, f+".purpose", ck.Purpose)
	c.byLanguage(s, f+".expiry", ck.Expiry)
	if ck.Party != "" && ck.Party != "first" && ck.Party != "third" && ck.Party != "shared" {
		c.addf(f+".party", "%q: want first, third or shared (first party, read by the provider)", ck.Party)
	}
	switch ck.Kind {
	case "", "cookie", "localStorage", "sessionStorage":
	default:
		c.addf(f+".kind", "%q: want cookie, localStorage or sessionStorage", ck.Kind)
	}
}

// knowledge is crumb's embedded cookie knowledge, read once, for the
// check of rows under necessary.
var knowledge = sync.OnceValues(func() (*classify.Classifier, error) {
	return classify.New(classify.Options{})
})

// necessaryCookie refuses a row under necessary that crumb's knowledge
// base knows, by its exact name or a name pattern, as a cookie of another
// category (_ga, analytics), unless the row names the WP194 exemption it
// relies on: the same rule as an override saying necessary (R32).
func (c *checker) necessaryCookie(f string, ck Cookie) {
	name := strings.TrimSpace(ck.Name)
	if name == "" || strings.TrimSpace(ck.Justification) != "" {
		return
	}
	kb, err := knowledge()
	if err != nil {
		c.addf(f, "cannot check the row against crumb's knowledge base: %v", err)
		return
	}
	// A pattern row is checked as a name it matches: _ga_* as _ga_1.
	v := kb.Classify(classify.Query{Name: strings.ReplaceAll(name, "*", "1"), Kind: scanner.Kind(ck.Kind), Domain: ck.Domain})
	if v.Source != scanner.SourceExact && v.Source != scanner.SourcePattern || v.Category == scanner.Necessary || v.Category == scanner.Unclassified {
		return
	}
	by := ""
	if v.Provider != "" {
		by = " (" + v.Provider + ")"
	}
	c.addf(f+".justification", "missing: crumb's knowledge base knows %s as %s%s, not necessary (%s); move the row to %s, or give the WP194 exemption the necessary verdict relies on (R32), as an override must",
		name, v.Category, by, v.Rule, v.Category)
}

// byLanguage checks that a per-language map only uses site languages.
func (c *checker) byLanguage(s *Site, field string, m map[string]string) {
	for _, lang := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(s.Languages, lang) {
			c.addf(field+"."+lang, "%q is not one of the site's languages", lang)
		}
	}
}

package widget

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Script returns the crumb.js served for one site: the bundle with cfg
// inlined as a JavaScript string that the banner passes to JSON.parse. The
// string is pure ASCII and holds no '<', '>', '&', quote, backslash or line
// terminator unescaped, so no operator text can end the script, open a
// comment or inject code, whether the script is served as a file or pasted
// inline into a page; and it needs no eval, so a strict CSP is enough.
func (b *Bundle) Script(cfg Config) ([]byte, error) {
	// The CSS has no colours of its own and takes these as they are.
	if err := cfg.Theme.Validate(); err != nil {
		return nil, fmt.Errorf("widget config: %w", err)
	}
	// Every language gets every text the banner shows, the default
	// language's where it has none of its own, as an array in the order of
	// textKeys; and the placeholders that depend on the site alone are
	// filled in here: {corner} of withdraw (after icon_position) and {name}
	// of controller.
	texts := make(map[string][]string, len(cfg.Languages))
	for _, lang := range cfg.Languages {
		m := maps.Clone(cfg.Texts[cfg.Languages[0]])
		if m == nil {
			m = map[string]string{}
		}
		maps.Copy(m, cfg.Texts[lang])
		corner := m["corner_left"]
		if cfg.IconPosition == "bottom-right" {
			corner = m["corner_right"]
		}
		m["withdraw"] = strings.ReplaceAll(m["withdraw"], "{corner}", corner)
		m["controller"] = strings.ReplaceAll(m["controller"], "{name}", cfg.Name)
		a := make([]string, len(textKeys))
		for i, k := range textKeys {
			a[i] = m[k]
		}
		texts[lang] = a
	}
	// Likewise every by-language map of the categories and cookie tables.
	local := func(m map[string]string) map[string]string {
		if m == nil {
			return nil
		}
		out := maps.Clone(m)
		for _, lang := range cfg.Languages {
			if _, ok := out[lang]; !ok {
				out[lang] = m[cfg.Languages[0]]
			}
		}
		return out
	}
	cats := make([]servedCategory, len(cfg.Categories))
	for i, c := range cfg.Categories {
		c.Name, c.Description = local(c.Name), local(c.Description)
		cats[i] = servedCategory{Category: c, Cookies: make([]servedCookie, len(c.Cookies))}
		for j, ck := range c.Cookies {
			ck.Purpose, ck.Expiry = local(ck.Purpose), local(ck.Expiry)
			// The party goes as the index of its text (party_<party>); a
			// party without one as none.
			cats[i].Cookies[j] = servedCookie{Cookie: ck, PartyText: max(slices.Index(textKeys, "party_"+ck.Party), 0)}
		}
	}
	// GPC names only optional categories, in their order.
	var gpc []string
	for _, c := range cfg.Categories {
		if !c.Locked && slices.Contains(cfg.GPC, c.ID) {
			gpc = append(gpc, c.ID)
		}
	}
	cfg.GPC = gpc
	css := cfg.Theme.Resolved().css()
	if cfg.IconPosition == "bottom-right" {
		css += ".i{left:auto;right:16px}"
	}
	raw, err := json.Marshal(served{Config: cfg, CSS: css, Text: texts, Categories: cats})
	if err != nil {
		return nil, fmt.Errorf("encode widget config: %w", err)
	}
	out := make([]byte, 0, len(b.head)+len(raw)+len(raw)/8+len(b.tail)+2)
	out = append(out, b.head...)
	out = appendJSString(out, raw)
	return append(out, b.tail...), nil
}

// served is the config as inlined: the theme goes as the CSS rule that
// hands its colours to the banner's stylesheet (with the icon's corner),
// not as an object the banner would have to turn into CSS itself.
// The texts go as arrays by language (text), without their keys, and a
// cookie's party as the index of its text there.
type served struct {
	Config
	Theme      *struct{}           `json:"theme,omitempty"` // hides Config.Theme
	Texts      *struct{}           `json:"texts,omitempty"` // hides Config.Texts
	CSS        string              `json:"css"`
	Text       map[string][]string `json:"text"`
	Categories []servedCategory    `json:"categories"`
}

type servedCategory struct {
	Category
	Cookies []servedCookie `json:"cookies,omitempty"`
}

// servedCookie has the party as the index of its text, and leaves out what
// the banner does not use: Pattern (a "*" in the name is one) and Domain.
type servedCookie struct {
	Cookie
	PartyText int       `json:"pt,omitempty"` // index in textKeys of party_<party>; 0: none
	Party     *struct{} `json:"party,omitempty"`
	Pattern   *struct{} `json:"pattern,omitempty"`
	Domain    *struct{} `json:"domain,omitempty"`
}

// textKeys are the texts the banner shows, in the order of the indices in
// src/texts.js.
var textKeys = []string{
	"title", "body", "withdraw", "controller", "privacy_link", "accept_all", "reject_all", "settings",
	"settings_title", "settings_intro", "save", "close", "necessary_locked", "cookies_show",
	"col_name", "col_provider", "col_purpose", "col_expiry", "col_party",
	"party_first", "party_third", "party_shared",
	"consent_id", "export", "erase", "erased", "error", "gpc_notice",
	"placeholder_text", "placeholder_button", "icon_label",
}

// appendJSString appends s as a double-quoted JavaScript string literal
// whose bytes are printable ASCII other than '<', '>' and '&'.
func appendJSString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		s = s[size:]
		switch {
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r >= 0x20 && r < 0x7f && r != '<' && r != '>' && r != '&':
			dst = append(dst, byte(r))
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			for _, u := range []rune{r1, r2} {
				dst = append(dst, '\\', 'u', hex[u>>12&0xf], hex[u>>8&0xf], hex[u>>4&0xf], hex[u&0xf])
			}
		default: // controls, '<', '>', '&', non-ASCII (U+2028, U+2029 included), invalid UTF-8 as U+FFFD
			dst = append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		}
	}
	return append(dst, '"')
}

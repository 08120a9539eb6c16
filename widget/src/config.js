// The site's config and what follows from it for this page view: the
// language (the page's <html lang> when the site offers it, else the
// browser's first offered one, else the site's default), the categories,
// and the texts.

export let cfg, lang, cats, optional, gpc

export function configure(c) {
  cfg = c
  const have = c.languages
  lang =
    [document.documentElement.lang, ...navigator.languages]
      .flatMap((l) => [(l = l.toLowerCase()), l.split('-')[0]])
      .find((l) => have.includes(l)) || have[0]
  cats = c.categories
  optional = cats.filter((k) => !k.locked).map((k) => k.id)
  // Global Privacy Control refuses the site's GPC categories (R42): those
  // of its optional categories, in their order (Bundle.Script).
  gpc = (navigator.globalPrivacyControl === true && c.gpc) || []
}

// local picks this page's language from a by-language map (Bundle.Script
// fills in the default language's where a language has none).
export const local = (m) => m?.[lang] || ''

// t returns text i (see texts.js) with {name} placeholders filled from
// vars. Texts are only ever set as text, never parsed as HTML. Every
// language has every text (Bundle.Script fills in the default language's).
export const t = (i, vars = {}) => cfg.text[lang][i].replace(/\{(\w+)\}/g, (x, k) => (k in vars ? vars[k] : x))

// catName is a category's name in this page's language.
export const catName = (id) => local(cats.find((k) => k.id == id)?.name) || id

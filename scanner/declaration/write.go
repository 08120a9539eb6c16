package declaration

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/crumbhq/crumb/scanner"
)

//go:embed templates/declaration.html.tmpl
var templates embed.FS

var htmlTemplate = template.Must(template.ParseFS(templates, "templates/declaration.html.tmpl"))

// view is what both formats render: texts resolved, rows in words.
type view struct {
	Lang, Title, Scanned, Empty string
	Headers                     []string
	Sections                    []section
}

type section struct {
	ID, Heading, Description string
	// Note lists what the scan saw set before consent in a category that
	// needs it (Table.BeforeConsent); "" when nothing was.
	Note string
	Rows []viewRow
}

type viewRow struct {
	Name, Provider, Purpose, Lifetime, Kind, Party string
}

// CategoryText is how a site names one of its categories, by language.
// For a category the site defined itself it is the only name there is;
// for a built-in one it replaces the declaration's own wording.
type CategoryText struct {
	Name, Description map[string]string
}

// Options say where a declaration's tables come from and how the site
// names its categories.
type Options struct {
	// Categories, which may be nil, give the site's names and descriptions
	// of its categories. A category without a name in the declaration's
	// language is headed by its built-in name or, for one the site
	// defined, its id.
	Categories map[scanner.Category]CategoryText
	// SiteDomain and ScannedAt name the scan the tables come from; the
	// declaration says when it was made. Zero when there is none.
	SiteDomain string
	ScannedAt  time.Time
	// Unscanned says no scan has been made yet: the tables are only what
	// the site declares, and the declaration says so.
	Unscanned bool
	// Controller is the name of the company or person running the site
	// (the configuration's site name), named as the provider of the site's
	// own items. "" names them "the website", in the declaration's
	// language.
	Controller string
}

// Write renders the declaration of a classified report as format "html"
// (a fragment of accessible tables, escaped, to paste into a privacy
// policy) or "md" (Markdown tables), in lang "sv" or "en", with the site's
// names of its categories (categories may be nil; see Options). It returns
// ErrFormat or ErrLanguage for other values, and write errors wrapped.
func Write(w io.Writer, r *scanner.Report, format, lang string, categories map[scanner.Category]CategoryText) error {
	return WriteTables(w, Tables(r), format, lang, Options{Categories: categories, SiteDomain: r.SiteDomain, ScannedAt: r.StartedAt})
}

// WriteReport is Write with options: the site's names of its categories
// and its controller. The scan's site and time come from the report.
func WriteReport(w io.Writer, r *scanner.Report, format, lang string, o Options) error {
	o.SiteDomain, o.ScannedAt = r.SiteDomain, r.StartedAt
	return WriteTables(w, Tables(r), format, lang, o)
}

// WriteTables renders tables as Write does a report's: the tables of a
// scan merged with what the site declares, or, before any scan, only the
// latter (with o.Unscanned).
func WriteTables(w io.Writer, tables []Table, format, lang string, o Options) error {
	t, ok := texts[lang]
	if !ok {
		return fmt.Errorf("%w: %q", ErrLanguage, lang)
	}
	v := buildView(tables, lang, t, o)
	switch format {
	case "html":
		if err := htmlTemplate.Execute(w, v); err != nil {
			return fmt.Errorf("write declaration: %w", err)
		}
		return nil
	case "md":
		if _, err := io.WriteString(w, markdown(v)); err != nil {
			return fmt.Errorf("write declaration: %w", err)
		}
		return nil
	}
	return fmt.Errorf("%w: %q", ErrFormat, format)
}

func buildView(tables []Table, lang string, t map[string]string, o Options) view {
	v := view{
		Lang: lang, Title: t["title"], Empty: t["empty"],
		Headers: []string{t["name"], t["provider"], t["purpose"], t["lifetime"], t["kind"], t["party"]},
	}
	switch {
	case o.Unscanned:
		v.Scanned = t["unscanned"]
	case !o.ScannedAt.IsZero() && o.SiteDomain != "":
		v.Scanned = fmt.Sprintf(t["scanned"], o.SiteDomain, o.ScannedAt.UTC().Format("2006-01-02"))
	}
	for _, tab := range tables {
		s := section{ID: string(tab.Category), Heading: t[string(tab.Category)], Description: t[string(tab.Category)+".d"]}
		if own := o.Categories[tab.Category]; tab.Category != scanner.Unclassified {
			if name := strings.TrimSpace(own.Name[lang]); name != "" {
				s.Heading = name
			}
			if desc := strings.TrimSpace(own.Description[lang]); desc != "" {
				s.Description = desc
			}
		}
		if s.Heading == "" {
			s.Heading = string(tab.Category) // a category the site defined but did not name
		}
		if pre := tab.BeforeConsent(); len(pre) > 0 {
			// "Used only if you consent" would be false: say that they
			// require consent, and what the scan saw set without it.
			if d := t[string(tab.Category)+".d.pre"]; d != "" && s.Description == t[string(tab.Category)+".d"] {
				s.Description = d
			}
			names := make([]string, len(pre))
			for i, r := range pre {
				names[i] = r.Name
			}
			s.Note = fmt.Sprintf(t["pre_consent"], strings.Join(names, ", "))
		}
		for _, row := range tab.Rows {
			purpose := row.Purpose[lang]
			if purpose == "" {
				purpose = t["no_purpose"]
			}
			if tab.Category == scanner.Unclassified && row.Proposed != "" && row.Proposed != scanner.Unclassified {
				purpose += " " + fmt.Sprintf(t["proposed"], categoryName(row.Proposed, lang, t, o.Categories))
			}
			lifetime := row.Expiry[lang]
			if lifetime == "" {
				lifetime = t["unknown"]
			}
			provider := providerText(t, row, tab.Category, o.Controller)
			s.Rows = append(s.Rows, viewRow{
				Name: row.Name, Provider: provider, Purpose: purpose, Lifetime: lifetime,
				Kind: kindText(t, row.Kind), Party: partyText(t, row.Party, row.SharedWith, row.Domain),
			})
		}
		v.Sections = append(v.Sections, s)
	}
	return v
}

// categoryName is how the declaration names category c in lang: the
// site's name for it, else the built-in name, else its id.
func categoryName(c scanner.Category, lang string, t map[string]string, own map[scanner.Category]CategoryText) string {
	if name := strings.TrimSpace(own[c].Name[lang]); name != "" {
		return name
	}
	if name := t[string(c)]; name != "" {
		return name
	}
	return string(c)
}

// markdown renders v as GitHub-flavoured Markdown, every cell escaped so
// that no name or purpose can break the table or inject markup.
func markdown(v view) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", mdText(v.Title))
	if v.Scanned != "" {
		fmt.Fprintf(&b, "%s\n\n", mdText(v.Scanned))
	}
	if len(v.Sections) == 0 {
		fmt.Fprintf(&b, "%s\n", mdText(v.Empty))
	}
	for _, s := range v.Sections {
		fmt.Fprintf(&b, "### %s\n\n", mdText(s.Heading))
		if s.Description != "" {
			fmt.Fprintf(&b, "%s\n\n", mdText(s.Description))
		}
		if s.Note != "" {
			fmt.Fprintf(&b, "**%s**\n\n", mdText(s.Note))
		}
		b.WriteString("|")
		for _, h := range v.Headers {
			fmt.Fprintf(&b, " %s |", mdText(h))
		}
		b.WriteString("\n|" + strings.Repeat(" --- |", len(v.Headers)) + "\n")
		for _, r := range s.Rows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n",
				mdCode(r.Name), mdText(r.Provider), mdText(r.Purpose), mdText(r.Lifetime), mdText(r.Kind), mdText(r.Party))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// mdText escapes text for a Markdown table cell or paragraph.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;", "#", `\#`, "\r", " ", "\n", " ",
)

func mdText(s string) string { return mdEscaper.Replace(s) }

// mdCode writes s as a code span, fenced with more backticks than it holds
// and with pipes escaped, as GitHub's tables require even inside code.
func mdCode(s string) string {
	s = strings.NewReplacer("|", `\|`, "\r", " ", "\n", " ").Replace(s)
	run, longest := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

package declaration

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"

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
	Rows                     []viewRow
}

type viewRow struct {
	Name, Provider, Purpose, Lifetime, Kind, Party string
}

// Write renders the declaration of a classified report as format "html"
// (a fragment of accessible tables, escaped, to paste into a privacy
// policy) or "md" (Markdown tables), in lang "sv" or "en". It returns
// ErrFormat or ErrLanguage for other values, and write errors wrapped.
func Write(w io.Writer, r *scanner.Report, format, lang string) error {
	t, ok := texts[lang]
	if !ok {
		return fmt.Errorf("%w: %q", ErrLanguage, lang)
	}
	v := buildView(r, lang, t)
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

func buildView(r *scanner.Report, lang string, t map[string]string) view {
	v := view{
		Lang: lang, Title: t["title"], Empty: t["empty"],
		Headers: []string{t["name"], t["provider"], t["purpose"], t["lifetime"], t["kind"], t["party"]},
	}
	if !r.StartedAt.IsZero() && r.SiteDomain != "" {
		v.Scanned = fmt.Sprintf(t["scanned"], r.SiteDomain, r.StartedAt.UTC().Format("2006-01-02"))
	}
	for _, tab := range Tables(r) {
		s := section{ID: string(tab.Category), Heading: t[string(tab.Category)], Description: t[string(tab.Category)+".d"]}
		if s.Heading == "" {
			s.Heading = string(tab.Category) // a category the site defined
		}
		for _, row := range tab.Rows {
			purpose := row.Purpose[lang]
			if purpose == "" {
				purpose = t["no_purpose"]
			}
			s.Rows = append(s.Rows, viewRow{
				Name: row.Name, Provider: row.Provider, Purpose: purpose, Lifetime: row.Expiry[lang],
				Kind: kindText(t, row.Kind), Party: partyText(t, row.Party),
			})
		}
		v.Sections = append(v.Sections, s)
	}
	return v
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

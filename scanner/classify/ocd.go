package classify

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/crumbhq/crumb/scanner"
)

// ocdHeader is the first line of an Open Cookie Database CSV export.
var ocdHeader = []string{"ID", "Platform", "Category", "Cookie / Data Key name", "Domain", "Description",
	"Retention period", "Data Controller", "User Privacy & GDPR Rights Portals", "Wildcard match"}

// ocdCategories maps the Open Cookie Database's categories to crumb's.
// Personalization is left unclassified: an override must decide it.
// Functional and Security rows only propose necessary: crumb never takes
// necessary from a database without WP194 justifications (R32), so their
// items stay unclassified, with the proposal, until the site owner
// confirms it with an override.
var ocdCategories = map[string]scanner.Category{
	"functional":      scanner.Necessary,
	"security":        scanner.Necessary,
	"analytics":       scanner.Analytics,
	"marketing":       scanner.Marketing,
	"personalization": scanner.Unclassified,
}

// loadDB reads a file of extra entries in crumb's format or as an Open
// Cookie Database CSV, told apart by the CSV's header.
func loadDB(file string) ([]*Entry, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cookie db: %w", err)
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	first, _, _ := bytes.Cut(b, []byte("\n"))
	base := filepath.Base(file)
	if bytes.HasPrefix(bytes.TrimSpace(first), []byte("ID,Platform,")) {
		entries, err := parseOCD(base, bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("cookie db: %w", err)
		}
		for _, e := range entries {
			e.imported = true
		}
		return entries, nil
	}
	entries, err := parseKB(base, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("cookie db: %w", err)
	}
	for _, e := range entries {
		e.Confidence, e.imported = scanner.ConfidenceMedium, true
	}
	return entries, nil
}

// parseOCD reads Open Cookie Database rows. Its descriptions are English
// only; they become the English purpose. Personalization rows are skipped,
// since they say nothing about consent that crumb could act on.
func parseOCD(file string, r io.Reader) ([]*Entry, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = len(ocdHeader)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", file, err)
	}
	for i, h := range ocdHeader {
		if strings.TrimSpace(head[i]) != h {
			return nil, fmt.Errorf("%s: header column %d is %q, want %q", file, i+1, head[i], h)
		}
	}
	var out []*Entry
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		e, err := ocdEntry(rec)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		if e == nil {
			continue
		}
		e.Origin = fmt.Sprintf("%s:%d", file, line)
		out = append(out, e)
	}
}

func ocdEntry(rec []string) (*Entry, error) {
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	id, platform, catName, name, domain, desc, wildcard := rec[0], rec[1], rec[2], rec[3], rec[4], rec[5], rec[9]
	cat, ok := ocdCategories[strings.ToLower(catName)]
	if !ok {
		return nil, fmt.Errorf("row %s: category %q: want Functional, Security, Analytics, Marketing or Personalization", id, catName)
	}
	if cat == scanner.Unclassified {
		return nil, nil
	}
	if name == "" {
		return nil, fmt.Errorf("row %s: empty cookie name", id)
	}
	e := &Entry{
		Name:       name,
		Provider:   platform,
		Category:   cat,
		Confidence: scanner.ConfidenceMedium,
		Licence:    "as licensed by the file's publisher",
	}
	if rec[7] != "" && rec[7] != platform {
		e.Provider = platform + " (" + rec[7] + ")"
	}
	if desc != "" {
		e.Purpose = map[string]string{"en": desc}
	}
	if strings.HasPrefix(rec[8], "https://") {
		e.Source = rec[8]
	}
	if d := ocdDomain(domain); d != "" {
		e.Domains = []string{d}
	}
	if cat == scanner.Necessary {
		e.Category, e.Proposed = scanner.Unclassified, scanner.Necessary
		e.proposedWhy = "listed as " + catName + " in an imported Open Cookie Database file (row " + id + "), which gives no WP194 exemption"
	}
	switch wildcard {
	case "1":
		// A wildcard name is the fixed start of the real names.
		e.prefix = strings.TrimRight(name, "*")
		e.re = regexp.MustCompile("^" + regexp.QuoteMeta(e.prefix) + ".*$")
		e.Name = e.prefix + "*"
	case "0", "":
		e.prefix = name
	default:
		return nil, fmt.Errorf("row %s: wildcard match %q: want 0 or 1", id, wildcard)
	}
	return e, nil
}

// ocdDomain keeps a usable domain from the free-text Domain column, which
// holds values like "google.com (3rd party)"; first-party or empty domains
// mean the entry applies anywhere.
func ocdDomain(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || strings.Contains(s, "1st party") || strings.Contains(s, "first party") {
		return ""
	}
	f := strings.Fields(s)
	d := normHost(f[0])
	if !strings.Contains(d, ".") || strings.ContainsAny(d, "/*()") {
		return ""
	}
	return d
}

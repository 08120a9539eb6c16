package classify

import (
	"cmp"
	"slices"

	"github.com/crumbhq/crumb/scanner"
)

// Problem says why a site owner must act on an item (R31).
type Problem string

// Problems, most urgent first.
const (
	// PreConsent: a non-necessary or unclassified item was present on a
	// visit without consent.
	PreConsent Problem = "pre-consent"
	// NotClassified: nobody knows what the item is for.
	NotClassified Problem = "unclassified"
	// Unconfirmed: a necessary verdict that rests on a guess or on an
	// imported database; the site owner must confirm it (R32).
	Unconfirmed Problem = "confirm-necessary"
)

// Finding is an item the site owner must act on.
type Finding struct {
	Problem Problem      `json:"problem"`
	Item    scanner.Item `json:"item"`
}

// ProblemOf returns what is wrong with a classified item, or "" when
// nothing is. An item without a classification counts as unclassified.
func ProblemOf(it scanner.Item) Problem {
	cat, conf := scanner.Unclassified, scanner.ConfidenceNone
	if it.Classification != nil {
		cat, conf = it.Classification.Category, it.Classification.Confidence
	}
	switch {
	case cat != scanner.Necessary && it.PreConsent():
		return PreConsent
	case cat == scanner.Unclassified:
		return NotClassified
	case cat == scanner.Necessary && conf != scanner.ConfidenceHigh:
		return Unconfirmed
	}
	return ""
}

var problemRank = map[Problem]int{PreConsent: 0, NotClassified: 1, Unconfirmed: 2, "": 3}

// SortItems orders items for a person: pre-consent findings first, then
// unclassified items, then necessary verdicts to confirm, then the rest;
// within each group by category (necessary, analytics, marketing, the
// site's own, unclassified), name and domain. The sort is stable.
func SortItems(items []scanner.Item) {
	slices.SortStableFunc(items, func(a, b scanner.Item) int {
		return cmp.Or(
			cmp.Compare(problemRank[ProblemOf(a)], problemRank[ProblemOf(b)]),
			cmp.Compare(categoryRank(a), categoryRank(b)),
			cmp.Compare(categoryOf(a), categoryOf(b)),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Domain, b.Domain),
		)
	})
}

// ActionItems returns the findings of a classified report, most urgent
// first: what the site owner must act on.
func ActionItems(r *scanner.Report) []Finding {
	items := slices.Clone(r.Items)
	SortItems(items)
	var out []Finding
	for _, it := range items {
		if p := ProblemOf(it); p != "" {
			out = append(out, Finding{Problem: p, Item: it})
		}
	}
	return out
}

func categoryOf(it scanner.Item) string {
	if it.Classification == nil {
		return string(scanner.Unclassified)
	}
	return string(it.Classification.Category)
}

var builtinRank = map[string]int{
	string(scanner.Necessary): 0, string(scanner.Analytics): 1, string(scanner.Marketing): 2, string(scanner.Unclassified): 4,
}

func categoryRank(it scanner.Item) int {
	if r, ok := builtinRank[categoryOf(it)]; ok {
		return r
	}
	return 3
}

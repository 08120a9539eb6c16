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
	// NotClassified: nobody knows what the item is for; at most a name
	// heuristic proposes a category, which the site owner must confirm.
	NotClassified Problem = "unclassified"
	// Unconfirmed: necessary is only proposed (by a name heuristic or an
	// imported database), or a necessary verdict rests on less than crumb's
	// own knowledge; the site owner must confirm it (R32).
	Unconfirmed Problem = "confirm-necessary"
)

// Finding is an item, or a third-party host, the site owner must act on.
// Exactly one of Item and Host is set.
type Finding struct {
	Problem Problem       `json:"problem"`
	Item    *scanner.Item `json:"item,omitempty"`
	Host    *scanner.Host `json:"host,omitempty"`
}

// ProblemOf returns what is wrong with a classified item, or "" when
// nothing is. An item without a classification counts as unclassified.
func ProblemOf(it scanner.Item) Problem {
	cat, proposed := it.Classification.Established()
	conf := scanner.ConfidenceNone
	if it.Classification != nil {
		conf = it.Classification.Confidence
	}
	switch {
	case cat != scanner.Necessary && it.PreConsent():
		return PreConsent
	case cat == scanner.Unclassified && proposed == scanner.Necessary:
		return Unconfirmed
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

// HostProblem returns what is wrong with a third-party host of a
// classified report, or "": a known tracker's host contacted on a visit
// without consent is a pre-consent finding (R31), whether or not it stored
// anything (a pixel, a script, a font from an ad network).
func HostProblem(h scanner.Host) Problem {
	if h.Tracker != nil && h.PreConsent() {
		return PreConsent
	}
	return ""
}

// ActionItems returns the findings of a classified report, most urgent
// first: what the site owner must act on. Tracker hosts contacted before
// consent come right after the items seen before consent, by host name.
func ActionItems(r *scanner.Report) []Finding {
	items := slices.Clone(r.Items)
	SortItems(items)
	var out []Finding
	hostsDone := false
	addHosts := func() {
		hostsDone = true
		hosts := slices.Clone(r.ThirdPartyHosts)
		slices.SortStableFunc(hosts, func(a, b scanner.Host) int { return cmp.Compare(a.Host, b.Host) })
		for i := range hosts {
			if p := HostProblem(hosts[i]); p != "" {
				out = append(out, Finding{Problem: p, Host: &hosts[i]})
			}
		}
	}
	for i := range items {
		p := ProblemOf(items[i])
		if p == "" {
			continue
		}
		if p != PreConsent && !hostsDone {
			addHosts()
		}
		out = append(out, Finding{Problem: p, Item: &items[i]})
	}
	if !hostsDone {
		addHosts()
	}
	return out
}

func categoryOf(it scanner.Item) string {
	cat, _ := it.Classification.Established()
	return string(cat)
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

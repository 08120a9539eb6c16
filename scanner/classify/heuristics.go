package classify

import (
	"strings"
	"unicode"

	"github.com/crumbhq/crumb/scanner"
)

// Weak name heuristics, the last rule before Unclassified. A word in a name
// is a guess, not knowledge, so they decide nothing: they leave the item
// Unclassified with a proposed category (Classification.Proposed) for the
// site owner to confirm with an override. From words in the name they may
// propose analytics or marketing; for a first-party session cookie whose
// name speaks of request forgery protection, a session id or load
// balancing, necessary with the WP194 exemption it would rest on (R32).

var marketingWords = map[string]bool{
	"ad": true, "ads": true, "adid": true, "advert": true, "advertising": true, "adserver": true,
	"pixel": true, "retarget": true, "retargeting": true, "remarketing": true, "affiliate": true,
	"campaign": true, "conversion": true, "gclid": true, "fbclid": true, "msclkid": true, "dclid": true,
	"utm": true, "clickid": true, "audience": true, "sponsor": true, "attribution": true,
}

var analyticsWords = map[string]bool{
	"analytics": true, "analytic": true, "stats": true, "stat": true, "statistics": true, "track": true,
	"tracker": true, "tracking": true, "pageview": true, "pageviews": true, "heatmap": true,
	"metrics": true, "telemetry": true, "abtest": true, "experiment": true, "visitor": true,
	"visitorid": true, "pv": true, "hit": true, "hits": true,
}

// Names of session cookies for request forgery protection and sessions.
var securityWords = map[string]bool{
	"csrf": true, "xsrf": true, "csrftoken": true, "xsrftoken": true, "antiforgery": true,
	"requestverificationtoken": true, "sessid": true, "sessionid": true, "session": true, "sess": true,
}

// Names of load-balancer and sticky-session cookies.
var balancerWords = map[string]bool{
	"lb": true, "balancer": true, "loadbalancer": true, "affinity": true, "sticky": true,
	"serverid": true, "route": true, "backend": true, "node": true,
}

// heuristic returns an Unclassified verdict with a proposed category, or
// false.
func heuristic(q Query) (scanner.Classification, bool) {
	words := nameWords(q.Name)
	for _, w := range words {
		if marketingWords[w] {
			return proposeCategory(scanner.Marketing, "the name contains the advertising word \""+w+"\"", "heuristic:marketing:"+w), true
		}
	}
	for _, w := range words {
		if analyticsWords[w] {
			return proposeCategory(scanner.Analytics, "the name contains the measurement word \""+w+"\"", "heuristic:analytics:"+w), true
		}
	}
	if q.Party != scanner.FirstParty || !q.Session || (q.Kind != scanner.Cookie && q.Kind != "") {
		return scanner.Classification{}, false
	}
	for _, w := range words {
		if securityWords[w] {
			j := justifications["B-input"]
			if strings.Contains(w, "srf") || w == "antiforgery" || w == "requestverificationtoken" {
				j = justifications["B-security"]
			}
			return proposeNecessary("a first-party session cookie whose name (\""+w+"\") marks a session id or request-forgery token", j, "heuristic:necessary:"+w), true
		}
		if balancerWords[w] {
			return proposeNecessary("a first-party session cookie whose name (\""+w+"\") marks load balancing", justifications["A-lb"], "heuristic:necessary:"+w), true
		}
	}
	return scanner.Classification{}, false
}

// proposeNecessary is the Unclassified verdict of a name that looks
// strictly necessary: the proposal and the exemption it would rest on are
// kept for the site owner, who decides with an override (R32).
func proposeNecessary(why, justification, rule string) scanner.Classification {
	return scanner.Classification{
		Category:   scanner.Unclassified,
		Proposed:   scanner.Necessary,
		Confidence: scanner.ConfidenceNone,
		Source:     scanner.SourceHeuristic,
		Reason: "guess from the name: " + why + "; proposed necessary under " + justification +
			", which only the site owner can confirm (an override with that justification)",
		Rule: rule,
	}
}

// proposeCategory is the Unclassified verdict of a name that looks like
// analytics or marketing: a word in a name is no evidence of what the item
// does, so the category is only proposed, for the site owner to confirm
// with an override; until then the item counts as unclassified (a finding,
// and under "not yet classified" in the declaration, never in a category's
// table).
func proposeCategory(cat scanner.Category, why, rule string) scanner.Classification {
	return scanner.Classification{
		Category:   scanner.Unclassified,
		Proposed:   cat,
		Confidence: scanner.ConfidenceNone,
		Source:     scanner.SourceHeuristic,
		Reason: "guess from the name: " + why + "; proposed " + string(cat) +
			", which only the site owner can confirm (an override); no knowledge-base entry, tracker domain or consent release backs it",
		Rule: rule,
	}
}

// nameWords splits a name into lower-case words at punctuation, digits and
// camelCase humps ("XSRF-TOKEN" → xsrf token; "visitorId" → visitor id),
// and adds the whole name folded, so "csrftoken" and "sessionid" count too.
func nameWords(name string) []string {
	if len(name) > 256 {
		name = name[:256]
	}
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	prev := rune(0)
	for _, r := range name {
		switch {
		case !unicode.IsLetter(r):
			flush()
		case unicode.IsUpper(r) && unicode.IsLower(prev):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
		prev = r
	}
	flush()
	folded := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, name)
	if len(words) != 1 && folded != "" {
		words = append(words, folded)
	}
	return words
}

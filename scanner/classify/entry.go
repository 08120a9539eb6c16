package classify

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/crumbhq/crumb/scanner"
)

// Entry is one line of knowledge: a cookie or storage key name (exact, or a
// pattern), who sets it, what it is for and where that is documented.
type Entry struct {
	// Name is the exact name, or a pattern when it holds a placeholder:
	// <id> (letters, digits, "_" and "-"), <n> (digits), <hash> (letters
	// and digits), <key> (like <id>) or * (anything, possibly empty).
	Name string
	// Kind is cookie, localStorage or sessionStorage; "" matches any kind.
	Kind scanner.Kind
	// Domains restricts the entry to items whose cookie domain or setter is
	// one of these registrable domains or below them; empty matches anywhere.
	Domains []string
	// SiteEvidence lets a domain-restricted entry apply to any item of a
	// site that shows it runs on the vendor (see Site): its scan saw a host
	// on or below one of these domains, or an item that an entry of the
	// same provider valid on any domain names (Shopify's _shopify_y). Used
	// for a vendor's generic names that its platform sets from the site's
	// own host (a Shopify store's cart and _s on www.butik.se).
	SiteEvidence []string

	Provider string
	Category scanner.Category
	Lifetime Lifetime
	Purpose  map[string]string // "sv", "en"
	// Justification names the WP194 exemption a Necessary entry relies on.
	Justification string
	// Proposed is set on an entry that only proposes a category (an Open
	// Cookie Database Functional or Security row proposes necessary); its
	// Category is Unclassified and other rules are tried first.
	Proposed scanner.Category
	Source   string // vendor documentation URL
	Licence  string
	// Origin says where the entry was read: "file:line".
	Origin string
	// Confidence of a verdict from this entry; imported databases give
	// medium, crumb's own knowledge base high.
	Confidence scanner.Confidence

	re       *regexp.Regexp // nil for exact names
	prefix   string         // literal text before the first placeholder
	imported bool           // read from an extra database, not crumb's own
	// proposedWhy says why the entry proposes its category.
	proposedWhy string
}

// Pattern reports whether the entry's name is a pattern rather than an
// exact name.
func (e *Entry) Pattern() bool { return e.re != nil }

// Lifetime is the typical lifetime a vendor documents for an item.
type Lifetime struct {
	Session    bool          // until the browser closes
	Persistent bool          // web storage kept until deleted
	Duration   time.Duration // a fixed lifetime; zero if unknown
}

// String writes the lifetime in the knowledge base's notation.
func (l Lifetime) String() string {
	switch {
	case l.Session:
		return "session"
	case l.Persistent:
		return "persistent"
	case l.Duration == 0:
		return "-"
	}
	d := l.Duration
	for _, u := range lifetimeUnits {
		if d%u.d == 0 {
			return fmt.Sprintf("%d%s", d/u.d, u.suffix)
		}
	}
	return d.String()
}

var lifetimeUnits = []struct {
	suffix string
	d      time.Duration
}{
	{"y", 365 * 24 * time.Hour},
	{"mo", 30 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
}

// parseLifetime reads "session", "persistent", "-" or a number with one of
// the units y, mo, d, h, m, s ("13mo", "2y", "30m").
func parseLifetime(s string) (Lifetime, error) {
	switch s {
	case "session":
		return Lifetime{Session: true}, nil
	case "persistent":
		return Lifetime{Persistent: true}, nil
	case "-", "":
		return Lifetime{}, nil
	}
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i <= 0 {
		return Lifetime{}, fmt.Errorf("lifetime %q: want session, persistent, - or a number and unit (2y, 13mo, 30d, 24h, 30m, 10s)", s)
	}
	var n int64
	fmt.Sscan(s[:i], &n)
	for _, u := range lifetimeUnits {
		if s[i:] == u.suffix {
			return Lifetime{Duration: time.Duration(n) * u.d}, nil
		}
	}
	return Lifetime{}, fmt.Errorf("lifetime %q: unknown unit %q", s, s[i:])
}

// placeholders maps each placeholder of a pattern to what it matches.
var placeholders = map[string]string{
	"<id>":   `[A-Za-z0-9_-]+`,
	"<key>":  `[A-Za-z0-9_-]+`,
	"<n>":    `[0-9]+`,
	"<hash>": `[A-Za-z0-9]+`,
}

// compileName turns an entry name into a regular expression if it is a
// pattern; it returns nil for an exact name, and the literal prefix.
func compileName(name string) (*regexp.Regexp, string, error) {
	var b strings.Builder
	prefix, literal, pattern := "", true, false
	for rest := name; rest != ""; {
		switch {
		case rest[0] == '*':
			b.WriteString(`.*`)
			rest = rest[1:]
		case rest[0] == '<':
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return nil, "", fmt.Errorf("name %q: unclosed placeholder", name)
			}
			re, ok := placeholders[rest[:end+1]]
			if !ok {
				return nil, "", fmt.Errorf("name %q: unknown placeholder %s (want <id>, <key>, <n>, <hash> or *)", name, rest[:end+1])
			}
			b.WriteString(re)
			rest = rest[end+1:]
		default:
			b.WriteString(regexp.QuoteMeta(rest[:1]))
			if literal {
				prefix += rest[:1]
			}
			rest = rest[1:]
			continue
		}
		literal, pattern = false, true
	}
	if !pattern {
		return nil, name, nil
	}
	re, err := regexp.Compile(`^(?:` + b.String() + `)$`)
	if err != nil {
		return nil, "", fmt.Errorf("name %q: %w", name, err)
	}
	return re, prefix, nil
}

// matchesKind reports whether an entry of kind want applies to an item of
// kind got. Entries without a kind, and queries without one, match any.
func matchesKind(want, got scanner.Kind) bool {
	return want == "" || got == "" || want == got
}

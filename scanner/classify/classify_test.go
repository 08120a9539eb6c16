package classify_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
)

// TestCases runs testdata/cases.tsv: each item with the category, rule and
// confidence it must get.
func TestCases(t *testing.T) {
	c := mustClassifier(t, classify.Options{})
	f, err := os.Open("testdata/cases.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line, n := 0, 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		cols := strings.Split(text, "\t")
		if len(cols) != 9 {
			t.Fatalf("cases.tsv:%d: %d columns, want 9", line, len(cols))
		}
		n++
		q := classify.Query{Name: cols[0], Kind: scanner.Kind(cols[1]), Domain: cols[2], SetBy: cols[3], Session: cols[5] == "y", SiteDomain: "example.org"}
		if cols[4] != "-" {
			q.Party = scanner.Party(cols[4])
		}
		got := c.Classify(q)
		if got.Category != scanner.Category(cols[6]) || got.Source != scanner.Source(cols[7]) || got.Confidence != scanner.Confidence(cols[8]) {
			t.Errorf("cases.tsv:%d: %s (%s, domain %q, party %q): got %s/%s/%s (%s), want %s/%s/%s",
				line, q.Name, q.Kind, q.Domain, q.Party, got.Category, got.Source, got.Confidence, got.Reason, cols[6], cols[7], cols[8])
		}
		checkVerdict(t, q, got)
	}
	if n < 40 {
		t.Fatalf("only %d cases read", n)
	}
}

// checkVerdict holds every verdict to the rules that apply to all of them.
func checkVerdict(t *testing.T, q classify.Query, v scanner.Classification) {
	t.Helper()
	if v.Reason == "" {
		t.Errorf("%s: verdict without a reason", q.Name)
	}
	if v.Category == scanner.Necessary && !strings.Contains(v.Justification, "WP194") && v.Source != scanner.SourceOverride {
		t.Errorf("%s: necessary without a WP194 justification: %+v", q.Name, v)
	}
	if v.Category == scanner.Necessary && v.Source != scanner.SourceExact && v.Source != scanner.SourcePattern && v.Source != scanner.SourceOverride {
		t.Errorf("%s: necessary from neither the knowledge base nor an override (R32): %+v", q.Name, v)
	}
	if v.Proposed == scanner.Necessary && v.Source == scanner.SourceHeuristic && (q.Party != scanner.FirstParty && q.Party != "" || !q.Session) {
		t.Errorf("%s: heuristic proposes necessary for a third-party or persistent item: %+v", q.Name, v)
	}
	if v.Category == scanner.Unclassified && v.Confidence != scanner.ConfidenceNone {
		t.Errorf("%s: unclassified with confidence %s", q.Name, v.Confidence)
	}
	if v.Category == scanner.Unclassified && (v.Source != scanner.SourceNone) != (v.Proposed != "") {
		t.Errorf("%s: unclassified from rule %s proposing %q: a rule that matched must leave its proposal", q.Name, v.Source, v.Proposed)
	}
	if v.Proposed != "" && v.Category != scanner.Unclassified {
		t.Errorf("%s: a proposal on a %s verdict", q.Name, v.Category)
	}
	if v.Category != scanner.Unclassified && v.Source != scanner.SourceHeuristic && v.Provider == "" {
		t.Errorf("%s: %s verdict without a provider", q.Name, v.Source)
	}
}

// TestKnowledgeBase checks the embedded knowledge itself: enough entries,
// each with provider, source, licence and both languages, necessary ones
// with their WP194 exemption, and no name listed twice for one domain.
func TestKnowledgeBase(t *testing.T) {
	c := mustClassifier(t, classify.Options{})
	entries := c.Entries()
	if len(entries) < 400 {
		t.Errorf("%d entries, want at least 400", len(entries))
	}
	seen := map[string]string{}
	providers := map[string]bool{}
	for _, e := range entries {
		providers[e.Provider] = true
		if e.Provider == "" || !strings.HasPrefix(e.Source, "https://") || e.Licence == "" {
			t.Errorf("%s %s: provider %q, source %q, licence %q", e.Origin, e.Name, e.Provider, e.Source, e.Licence)
		}
		if e.Purpose["sv"] == "" || e.Purpose["en"] == "" || e.Purpose["sv"] == e.Purpose["en"] {
			t.Errorf("%s %s: purpose needs distinct Swedish and English text", e.Origin, e.Name)
		}
		if (e.Category == scanner.Necessary) != (e.Justification != "") {
			t.Errorf("%s %s: category %s with justification %q", e.Origin, e.Name, e.Category, e.Justification)
		}
		key := e.Name + "|" + string(e.Kind) + "|" + strings.Join(e.Domains, ",")
		if prev, dup := seen[key]; dup {
			t.Errorf("%s %s: already listed at %s", e.Origin, e.Name, prev)
		}
		seen[key] = e.Origin
		// A name listed by two vendors must be tied to a domain in all but
		// one of them, or the second entry silently never applies.
		if len(e.Domains) == 0 {
			kinds := []scanner.Kind{e.Kind}
			if e.Kind == "" {
				kinds = []scanner.Kind{scanner.Cookie, scanner.LocalStorage, scanner.SessionStorage}
			}
			for _, k := range kinds {
				open := e.Name + "|" + string(k) + "|any-domain"
				if prev, dup := seen[open]; dup {
					t.Errorf("%s %s: also listed without a domain at %s", e.Origin, e.Name, prev)
				}
				seen[open] = e.Origin
			}
		}
	}
	// Every platform issue 5 names has entries.
	for _, p := range []string{"Google Analytics", "Google Ads and DoubleClick", "YouTube", "Google reCAPTCHA",
		"Meta Pixel", "LinkedIn", "Microsoft Advertising (UET tag)", "Microsoft Clarity", "TikTok Pixel", "X (Twitter)",
		"Pinterest", "Snapchat (Snap Pixel)", "Reddit", "HubSpot", "Hotjar", "Matomo", "Adobe Analytics", "Amplitude",
		"Mixpanel", "Segment", "RudderStack", "Snowplow", "PostHog", "Heap", "Intercom", "Zendesk", "Vimeo", "Stripe",
		"Cloudflare", "Amazon Web Services Elastic Load Balancing", "Microsoft Azure App Service", "PHP",
		"Java (Jakarta Servlet)", "ASP.NET", "Ruby on Rails", "Django", "Express (express-session)", "Laravel",
		"WordPress", "WooCommerce", "Shopify", "Magento (Adobe Commerce)", "Cookiebot (Usercentrics)", "OneTrust", "crumb"} {
		if !providers[p] {
			t.Errorf("no entries for %s", p)
		}
	}
	t.Logf("%d entries from %d providers, %d tracker domains", len(entries), len(providers), c.Trackers())
}

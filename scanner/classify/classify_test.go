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

// TestGenericNames: a name any site may use (cart, session, store, _s) is
// not a vendor's without evidence. On a shop that is not Shopify, "cart"
// is not Shopify's cart; on Shopify's domains or set by its script it is.
// Names many frameworks use keep their category but name no framework.
func TestGenericNames(t *testing.T) {
	c := mustClassifier(t, classify.Options{})
	tests := []struct {
		name         string
		q            classify.Query
		wantCategory scanner.Category
		wantProvider string // "" for none; "!X" for any provider but X
	}{
		{"cart on another shop", classify.Query{Name: "cart", Kind: scanner.Cookie, Domain: "www.example.org", SetBy: "https://www.example.org/basket"}, scanner.Unclassified, ""},
		{"cart on a Shopify store", classify.Query{Name: "cart", Kind: scanner.Cookie, Domain: "butik.myshopify.com", SetBy: "https://butik.myshopify.com/cart/add"}, scanner.Necessary, "Shopify"},
		{"cart set by Shopify's script", classify.Query{Name: "cart", Kind: scanner.Cookie, Domain: "www.example.org", SetBy: "https://cdn.shopify.com/s/files/theme.js"}, scanner.Necessary, "Shopify"},
		{"localization", classify.Query{Name: "localization", Kind: scanner.Cookie, Domain: "www.example.org"}, scanner.Unclassified, ""},
		{"_shopify_y needs no evidence", classify.Query{Name: "_shopify_y", Kind: scanner.Cookie, Domain: ".example.org"}, scanner.Analytics, "Shopify"},
		{"store", classify.Query{Name: "store", Kind: scanner.Cookie, Domain: "www.example.org"}, scanner.Unclassified, ""},
		{"messages", classify.Query{Name: "messages", Kind: scanner.Cookie, Domain: "www.example.org"}, scanner.Unclassified, ""},
		{"sp", classify.Query{Name: "sp", Kind: scanner.Cookie, Domain: "collector.example.org"}, scanner.Unclassified, ""},
		{"is_returning", classify.Query{Name: "is_returning", Kind: scanner.Cookie, Domain: "www.example.org"}, scanner.Unclassified, ""},
		{"csrftoken", classify.Query{Name: "csrftoken", Kind: scanner.Cookie, Domain: "www.example.org"}, scanner.Necessary, "!Django"},
		{"sessionid", classify.Query{Name: "sessionid", Kind: scanner.Cookie, Domain: "www.example.org"}, scanner.Necessary, "!Django"},
		{"session", classify.Query{Name: "session", Kind: scanner.Cookie, Domain: "www.example.org"}, scanner.Necessary, "!Express"},
		{"XSRF-TOKEN", classify.Query{Name: "XSRF-TOKEN", Kind: scanner.Cookie, Domain: "www.example.org"}, scanner.Necessary, "!Laravel"},
		{"_csrf", classify.Query{Name: "_csrf", Kind: scanner.Cookie, Domain: "www.example.org"}, scanner.Necessary, "!Express"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.SiteDomain, tt.q.Party = "example.org", scanner.FirstParty
			if strings.HasSuffix(tt.q.Domain, "myshopify.com") {
				tt.q.SiteDomain = "butik.myshopify.com"
			}
			v := c.Classify(tt.q)
			okProvider := v.Provider == tt.wantProvider
			if not, ok := strings.CutPrefix(tt.wantProvider, "!"); ok {
				okProvider = v.Provider != "" && !strings.Contains(v.Provider, not) &&
					!strings.Contains(v.Purpose["en"], "in "+not) && !strings.Contains(v.Purpose["en"], "on a "+not)
			}
			if v.Category != tt.wantCategory || !okProvider {
				t.Errorf("%s: %s by %q (%s), want %s by %q", tt.q.Name, v.Category, v.Provider, v.Reason, tt.wantCategory, tt.wantProvider)
			}
			checkVerdict(t, tt.q, v)
		})
	}
	// No embedded entry names a vendor for a generic name unless it is
	// tied to the vendor's domains.
	generic := map[string]bool{
		"cart": true, "cart_sig": true, "cart_ts": true, "cart_ver": true, "cart_currency": true, "checkout_token": true,
		"keep_alive": true, "localization": true, "_secure_session_id": true, "_pay_session": true, "_cmp_a": true,
		"_landing_page": true, "_orig_referrer": true, "_s": true, "_y": true, "tracked_start_checkout": true,
		"session": true, "session.sig": true, "sessionid": true, "csrftoken": true, "_csrf": true, "XSRF-TOKEN": true,
		"messages": true, "store": true, "stf": true, "login_redirect": true, "sp": true, "_guid": true, "is_returning": true,
		"lang": true, "visit": true, "token": true, "user": true, "id": true, "uid": true, "sid": true, "currency": true, "language": true,
	}
	for _, e := range c.Entries() {
		if generic[e.Name] && len(e.Domains) == 0 && !strings.Contains(e.Provider, "several frameworks") {
			t.Errorf("%s %s: the generic name is %s's on any site; tie it to a domain or name no vendor", e.Origin, e.Name, e.Provider)
		}
	}
}

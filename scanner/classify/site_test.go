package classify_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
)

// TestSiteEvidence: a Shopify store on its own domain sets cart, _s and
// localization from its own host. The report shows the site runs on
// Shopify (it loaded cdn.shopify.com, or holds a _shopify_* cookie), so
// those generic names are Shopify's with their knowledge-base categories;
// on a site without such evidence they stay unclassified, and evidence
// for one vendor says nothing about another's names.
func TestSiteEvidence(t *testing.T) {
	c := mustClassifier(t, classify.Options{})
	none := []string{scanner.ModeNone}
	own := func(names ...string) []scanner.Item {
		var items []scanner.Item
		for _, n := range names {
			items = append(items, scanner.Item{Kind: scanner.Cookie, Name: n, Domain: "www.butik.se", SetBy: "https://www.butik.se/", Party: scanner.FirstParty, SeenIn: none})
		}
		return items
	}
	host := func(hosts ...string) []scanner.Host {
		var out []scanner.Host
		for _, h := range hosts {
			out = append(out, scanner.Host{Host: h, Requests: 1, SeenIn: none})
		}
		return out
	}
	type want struct {
		category scanner.Category
		provider string // "" for none
		why      string // in the reason
	}
	shopify := func(c scanner.Category, why string) want { return want{c, "Shopify", why} }
	unknown := want{scanner.Unclassified, "", ""}
	tests := []struct {
		name  string
		items []scanner.Item
		hosts []scanner.Host
		pages []scanner.Page
		want  map[string]want
	}{
		{
			name:  "Shopify store on its own domain, theme from cdn.shopify.com",
			items: own("cart", "_s", "_y", "localization", "_landing_page", "checkout_token"),
			hosts: host("cdn.shopify.com", "fonts.googleapis.com"),
			want: map[string]want{
				"cart":           shopify(scanner.Necessary, "the site runs on Shopify: the scan saw cdn.shopify.com"),
				"_s":             shopify(scanner.Analytics, "cdn.shopify.com"),
				"_y":             shopify(scanner.Analytics, "cdn.shopify.com"),
				"localization":   shopify(scanner.Necessary, "cdn.shopify.com"),
				"_landing_page":  shopify(scanner.Analytics, "cdn.shopify.com"),
				"checkout_token": shopify(scanner.Necessary, "cdn.shopify.com"),
			},
		},
		{
			name:  "Shopify store known by its _shopify_y cookie",
			items: own("_shopify_y", "cart", "_s"),
			hosts: host("www.googletagmanager.com"),
			want: map[string]want{
				"_shopify_y": shopify(scanner.Analytics, ""),
				"cart":       shopify(scanner.Necessary, "the site runs on Shopify: the scan found its _shopify_y"),
				"_s":         shopify(scanner.Analytics, "_shopify_y"),
			},
		},
		{
			name:  "checkout redirected to a myshopify.com host",
			items: own("cart"),
			pages: []scanner.Page{{URL: "https://www.butik.se/checkout", Mode: scanner.ModeNone, RedirectedTo: "https://butik.myshopify.com/checkouts/1"}},
			want:  map[string]want{"cart": shopify(scanner.Necessary, "butik.myshopify.com")},
		},
		{
			name:  "a shop that is not Shopify",
			items: own("cart", "_s", "_y", "localization", "_ga"),
			hosts: host("www.googletagmanager.com", "cdn.example-shop.net", "shopify.example.net"),
			want:  map[string]want{"cart": unknown, "_s": unknown, "_y": unknown, "localization": unknown},
		},
		{
			name:  "LinkedIn's tag is no evidence of Shopify, nor of LinkedIn for names without site evidence",
			items: own("cart", "_guid", "lang", "li_fat_id"),
			hosts: host("snap.licdn.com", "px.ads.linkedin.com"),
			want: map[string]want{
				"cart":  unknown,
				"_guid": {scanner.Marketing, "LinkedIn", "the site runs on LinkedIn: the scan saw px.ads.linkedin.com"},
				"lang":  unknown,
			},
		},
		{
			name:  "Crazy Egg known by its _ceir cookie",
			items: own("_ceir", "is_returning"),
			want:  map[string]want{"is_returning": {scanner.Analytics, "Crazy Egg", "the site runs on Crazy Egg: the scan found its _ceir"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &scanner.Report{SiteDomain: "butik.se", Items: tt.items, ThirdPartyHosts: tt.hosts, Pages: tt.pages}
			c.ClassifyReport(r)
			for _, it := range r.Items {
				w, ok := tt.want[it.Name]
				if !ok {
					continue
				}
				v := it.Classification
				if v.Category != w.category || v.Provider != w.provider || !strings.Contains(v.Reason, w.why) {
					t.Errorf("%s: %s by %q (%s), want %s by %q because %q", it.Name, v.Category, v.Provider, v.Reason, w.category, w.provider, w.why)
				}
				if w.provider != "" && v.Confidence != scanner.ConfidenceHigh {
					t.Errorf("%s: confidence %s, want high", it.Name, v.Confidence)
				}
				if w.category == scanner.Necessary && classify.ProblemOf(it) != "" {
					t.Errorf("%s: finding %s on a Shopify store", it.Name, classify.ProblemOf(it))
				}
				checkVerdict(t, classify.Query{Name: it.Name, Party: it.Party}, *v)
			}
		})
	}
}

// TestSiteOf: the evidence a report holds, and a single Query carrying it
// (as a caller with no report may build it).
func TestSiteOf(t *testing.T) {
	c := mustClassifier(t, classify.Options{})
	r := &scanner.Report{
		SiteDomain: "butik.se",
		Items: []scanner.Item{
			{Kind: scanner.Cookie, Name: "_shopify_s", Domain: ".butik.se"},
			{Kind: scanner.Cookie, Name: "_ga", Domain: ".butik.se", SetBy: "https://www.googletagmanager.com/gtag/js"},
			{Kind: scanner.Cookie, Name: "cart", Domain: "www.butik.se"},
			{Kind: scanner.Cookie, Name: "SHOPIFY_Y", Domain: ".butik.se"}, // another case: no evidence
		},
		ThirdPartyHosts: []scanner.Host{{Host: "CDN.Shopify.com"}},
	}
	s := c.SiteOf(r)
	if want := []string{"butik.se", "cdn.shopify.com", "www.butik.se", "www.googletagmanager.com"}; !slices.Equal(s.Hosts, want) {
		t.Errorf("hosts %q, want %q", s.Hosts, want)
	}
	if s.Vendors["Shopify"] != "_shopify_s" || s.Vendors["Google Analytics"] != "_ga" || len(s.Vendors) != 2 {
		t.Errorf("vendors %v", s.Vendors)
	}
	q := classify.Query{Name: "_s", Kind: scanner.Cookie, Domain: ".butik.se", SiteDomain: "butik.se"}
	if v := c.Classify(q); v.Category != scanner.Unclassified {
		t.Errorf("_s without evidence: %s (%s)", v.Category, v.Reason)
	}
	q.Site = classify.Site{Hosts: []string{"shop.app"}}
	if v := c.Classify(q); v.Category != scanner.Analytics || v.Provider != "Shopify" {
		t.Errorf("_s on a site that contacted shop.app: %s by %q (%s)", v.Category, v.Provider, v.Reason)
	}
}

// TestSiteEvidenceExtraDB: an extra database may give its own
// domain-restricted entries site evidence.
func TestSiteEvidenceExtraDB(t *testing.T) {
	db := filepath.Join(t.TempDir(), "acme.kb")
	kb := "provider: Acme Shop\nsource: https://acme.example/cookies\ndomain: acme.example\nsite-evidence: acme-cdn.example\n" +
		"basket | cookie | analytics | 1y | Varukorg. | Basket.\n"
	if err := os.WriteFile(db, []byte(kb), 0o644); err != nil {
		t.Fatal(err)
	}
	c := mustClassifier(t, classify.Options{ExtraDB: []string{db}})
	q := classify.Query{Name: "basket", Kind: scanner.Cookie, Domain: "www.butik.se", SiteDomain: "butik.se"}
	if v := c.Classify(q); v.Provider == "Acme Shop" {
		t.Errorf("basket without evidence: %+v", v)
	}
	q.Site = classify.Site{Hosts: []string{"static.acme-cdn.example"}}
	if v := c.Classify(q); v.Provider != "Acme Shop" || v.Category != scanner.Analytics {
		t.Errorf("basket on a site that loads acme-cdn.example: %+v", v)
	}
}

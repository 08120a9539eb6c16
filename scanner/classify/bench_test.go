package classify_test

import (
	"testing"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
)

// BenchmarkNew measures loading and indexing the embedded knowledge base,
// which happens once per Classifier.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := classify.New(classify.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClassify measures one verdict per rule the classifier can end
// in: exact, pattern, domain, heuristic and unclassified.
func BenchmarkClassify(b *testing.B) {
	c := mustClassifier(b, classify.Options{})
	queries := map[string]classify.Query{
		"exact":        {Name: "_ga", Kind: scanner.Cookie, Domain: ".example.org", SiteDomain: "example.org"},
		"pattern":      {Name: "_hjSessionUser_3123456", Kind: scanner.Cookie, Domain: "example.org", SiteDomain: "example.org"},
		"domain":       {Name: "zz_unknown", Kind: scanner.Cookie, Domain: ".doubleclick.net", SiteDomain: "example.org"},
		"heuristic":    {Name: "shop_visitor_id", Kind: scanner.Cookie, Domain: "example.org", SiteDomain: "example.org"},
		"unclassified": {Name: "zzqq_unknown_cookie_name", Kind: scanner.Cookie, Domain: "example.org", SiteDomain: "example.org"},
	}
	for name, q := range queries {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				c.Classify(q)
			}
		})
	}
}

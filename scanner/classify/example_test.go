package classify_test

import (
	"fmt"

	"github.com/crumbhq/crumb/scanner"
	"github.com/crumbhq/crumb/scanner/classify"
)

func ExampleClassifier_Classify() {
	c, err := classify.New(classify.Options{})
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"_ga_ABC123XYZ", "PHPSESSID", "no_idea"} {
		v := c.Classify(classify.Query{Name: name, Kind: scanner.Cookie, Domain: "example.org", SiteDomain: "example.org"})
		fmt.Printf("%s: %s (%s, %s) %s\n", name, v.Category, v.Source, v.Confidence, v.Provider)
	}
	// Output:
	// _ga_ABC123XYZ: analytics (pattern, high) Google Analytics
	// PHPSESSID: necessary (exact, high) PHP
	// no_idea: unclassified (none, none)
}

package widget_test

import (
	"bytes"
	"fmt"

	"github.com/crumbhq/crumb/widget"
)

// Build once at start-up, then render each site's crumb.js from its config.
func Example() {
	bundle, err := widget.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	texts, _ := widget.DefaultTexts("sv")
	js, err := bundle.Script(widget.Config{
		Site: "exempel", Name: "Exempel AB", Revision: 1, Validity: 180 * 24 * 3600,
		PrivacyPolicyURL: "/integritet", Languages: []string{"sv"},
		Texts: map[string]map[string]string{"sv": texts},
		Categories: []widget.Category{
			{ID: "necessary", Locked: true, Name: map[string]string{"sv": "Nödvändiga"}},
			{ID: "analytics", Name: map[string]string{"sv": "Statistik"}},
		},
		IconPosition: "bottom-left",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(bundle.Hash), bytes.Contains(js, []byte(`Exempel AB`)))
	// Output: 16 true
}

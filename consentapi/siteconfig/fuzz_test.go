package siteconfig_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/crumbhq/crumb/consentapi/siteconfig"
)

// FuzzParse feeds arbitrary YAML to the loader: it never panics, it either
// returns a configuration or an *Error, and a configuration it accepts
// resolves to a banner with a valid theme and every category named in
// every language. Seeds: testdata/fuzz/FuzzParse and the example.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../configs/crumb.yaml"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := siteconfig.Parse("fuzz.yaml", data)
		if err != nil {
			var ce *siteconfig.Error
			if !errors.As(err, &ce) || len(ce.Problems) == 0 {
				t.Fatalf("error %v is not an *Error with problems", err)
			}
			return
		}
		for i := range cfg.Sites {
			s := &cfg.Sites[i]
			b := s.Banner()
			if err := b.Theme.Validate(); err != nil {
				t.Fatalf("accepted site %s has an invalid theme: %v", s.ID, err)
			}
			for _, c := range b.Categories {
				for _, lang := range s.Languages {
					if c.Name[lang] == "" || c.Description[lang] == "" {
						t.Fatalf("accepted site %s: category %s has no %s name or description", s.ID, c.ID, lang)
					}
				}
			}
			if _, err := json.Marshal(b); err != nil {
				t.Fatalf("banner of %s does not encode: %v", s.ID, err)
			}
		}
	})
}

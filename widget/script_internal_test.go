package widget

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestTextIndices checks that the text indices in src/texts.js are those of
// textKeys, the order in which Script sends a language's texts.
func TestTextIndices(t *testing.T) {
	js, err := src.ReadFile("src/texts.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\b([A-Z_]+) = (\d+)`).FindAllStringSubmatch(string(js), -1)
	if len(m) != len(textKeys) {
		t.Fatalf("texts.js has %d indices, textKeys %d keys", len(m), len(textKeys))
	}
	for _, c := range m {
		i, _ := strconv.Atoi(c[2])
		if i >= len(textKeys) || textKeys[i] != strings.ToLower(c[1]) {
			t.Errorf("texts.js: %s = %d, but textKeys[%d] is not %q", c[1], i, i, strings.ToLower(c[1]))
		}
	}
	for _, k := range textKeys {
		if !TextKeys(k) {
			t.Errorf("textKeys has %q, which is no text key", k)
		}
	}
}

package widget_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/crumbhq/crumb/widget"
)

func TestBuild(t *testing.T) {
	b := mustBuild(t)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(b.Hash) {
		t.Errorf("Hash = %q, want 16 hex digits", b.Hash)
	}
	code := b.Code()
	for _, leftover := range []string{"@@crumb-", "__CRUMB_", "sourceMappingURL", "eval(", "new Function", "innerHTML", "insertAdjacentHTML", "document.write"} {
		if bytes.Contains(code, []byte(leftover)) {
			t.Errorf("the bundle contains %q", leftover)
		}
	}
	if !bytes.Contains(code, []byte(`"`+b.Hash+`"`)) {
		t.Error("the bundle does not carry its own hash as widget_version")
	}
	again := mustBuild(t)
	if again.Hash != b.Hash || !bytes.Equal(again.Code(), code) {
		t.Error("two builds of the same sources differ")
	}
}

// TestScriptEscaping checks that the inlined config is one JavaScript
// string of safe ASCII that decodes to the config, whatever the operator
// wrote.
func TestScriptEscaping(t *testing.T) {
	b := mustBuild(t)
	tests := []struct{ name, text string }{
		{"script end", `</script><script>alert(1)</script>`},
		{"html comment", `<!-- <script>`},
		{"quotes and backslashes", `"'\` + "`" + `\u0022 \\"`},
		{"line terminators", "a\u2028b\u2029c\nd\re"},
		{"controls", "\x00\x01\x1f\x7f"},
		{"non-ASCII", "Nödvändiga kakor – 🍪"},
		{"invalid UTF-8", "a\xffb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Name = tt.text
			js, err := b.Script(cfg)
			if err != nil {
				t.Fatal(err)
			}
			head, tail, found := bytes.Cut(b.Code(), []byte(`JSON.parse("")`))
			if !found {
				t.Fatal("the bundle does not parse its config with JSON.parse")
			}
			head, tail = append(head, "JSON.parse("...), append([]byte(")"), tail...)
			lit, ok := bytes.CutPrefix(js, head)
			lit, ok2 := bytes.CutSuffix(lit, tail)
			if !ok || !ok2 {
				t.Fatal("Script changed the bundle around the config")
			}
			if m := regexp.MustCompile(`^"(?:[ !#-%'-;=?-\[\]-~]|\\["\\]|\\u[0-9a-f]{4})*"$`).Find(lit); m == nil {
				t.Fatalf("config literal is not a plain escaped string: %.200s", lit)
			}
			// Decoding the JS string literal (a JSON string here) then the JSON
			// inside gives back the config.
			var inner string
			if err := json.Unmarshal(lit, &inner); err != nil {
				t.Fatal(err)
			}
			var got widget.Config
			if err := json.Unmarshal([]byte(inner), &got); err != nil {
				t.Fatal(err)
			}
			want := strings.ToValidUTF8(tt.text, "\ufffd")
			if got.Name != want {
				t.Errorf("round trip Name = %q, want %q", got.Name, want)
			}
		})
	}
}

func TestScriptRefusesBadTheme(t *testing.T) {
	cfg := testConfig()
	cfg.Theme.Background = "red;} .b{background:url(https://tracker.example/)"
	_, err := mustBuild(t).Script(cfg)
	var te *widget.ThemeError
	if !errors.As(err, &te) || te.Field != "background" {
		t.Fatalf("Script() error = %v, want a ThemeError for background", err)
	}
}

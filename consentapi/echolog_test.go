package consentapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestEchoLogLines logs through echo's own logger, as the router does, into
// a JSON slog handler: one line per message, at echo's level, with echo's
// text under "detail" and no key twice.
func TestEchoLogLines(t *testing.T) {
	var buf bytes.Buffer
	e := echo.New()
	e.Logger.SetOutput(slogWriter{slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	e.Logger.SetLevel(0) // everything
	e.Logger.Error("route broke")
	e.Logger.Warn("response already committed")
	slogWriter{slog.New(slog.NewJSONHandler(&buf, nil))}.Write([]byte("not json\n"))

	want := []struct{ level, detail string }{{"ERROR", "route broke"}, {"WARN", "response already committed"}, {"WARN", "not json"}}
	dec := json.NewDecoder(&buf)
	for i, w := range want {
		line, err := decodeUnique(dec)
		if err != nil {
			t.Fatalf("line %d: %v\n%s", i, err, buf.String())
		}
		if line["msg"] != "echo" || line["level"] != w.level || line["detail"] != w.detail {
			t.Errorf("line %d: %v, want msg echo, level %s, detail %q", i, line, w.level, w.detail)
		}
	}
	if dec.More() {
		t.Errorf("more lines than messages")
	}
}

// decodeUnique reads one flat JSON object and fails on a repeated key.
func decodeUnique(dec *json.Decoder) (map[string]any, error) {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("want an object, got %v (%v)", tok, err)
	}
	out := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k := tok.(string)
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("key %q repeats", k)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	_, err := dec.Token() // }
	return out, err
}

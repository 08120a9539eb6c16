package consentapi_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDecision sends arbitrary bodies and content types to the decision
// endpoint of a real server: whatever arrives, the answer is never a 5xx
// and never a panic, errors are JSON, a 201 answers with a consent id, and
// no body with a key given twice in one object is accepted.
// "BANNER" and "WIDGET" in a body are replaced by the site's real banner
// hash and the served widget bundle's hash so that valid decisions are
// reachable. Seeds: testdata/fuzz/FuzzDecision.
func FuzzDecision(f *testing.F) {
	e := newEnv(f)
	b, _ := e.srv.Banner("shop")
	f.Add([]byte(`{"event_id":"fuzz-seed-000000001","action":"custom","categories":{"necessary":true,"analytics":true,"marketing":false},"revision":1,"banner":"BANNER","language":"sv","widget_version":"WIDGET"}`), "application/json")
	f.Add([]byte(`{"event_id":1}`), "application/json; charset=utf-8")
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		body = bytes.ReplaceAll(body, []byte("BANNER"), []byte(b.Banner))
		body = bytes.ReplaceAll(body, []byte("WIDGET"), []byte(e.srv.WidgetVersion()))
		req := httptest.NewRequest("POST", "/v1/sites/shop/consents", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q (%s): %s", rec.Code, body, ctype, rec.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d with a body that is not JSON: %q", rec.Code, rec.Body)
		}
		switch {
		case rec.Code >= 400 && out["error"] == nil:
			t.Fatalf("status %d without an error message: %s", rec.Code, rec.Body)
		case rec.Code == 201 && out["consent_id"] == nil:
			t.Fatalf("201 without a consent id: %s", rec.Body)
		case rec.Code < 300 && repeatsKey(json.NewDecoder(bytes.NewReader(body))):
			t.Fatalf("status %d for a body with a key given twice: %q", rec.Code, body)
		}
	})
}

// repeatsKey reports whether the JSON value dec reads has a key twice in
// one object, compared as encoding/json matches struct fields (case
// folded). Malformed input reports false.
func repeatsKey(dec *json.Decoder) bool {
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	switch tok {
	case json.Delim('{'):
		var keys []string
		for dec.More() {
			tok, err := dec.Token()
			k, ok := tok.(string)
			if err != nil || !ok {
				return false
			}
			for _, seen := range keys {
				if strings.EqualFold(seen, k) {
					return true
				}
			}
			keys = append(keys, k)
			if repeatsKey(dec) {
				return true
			}
		}
	case json.Delim('['):
		for dec.More() {
			if repeatsKey(dec) {
				return true
			}
		}
	}
	return false
}

package consentapi

import (
	"reflect"
	"testing"
)

// FuzzFastDecode checks that whatever the fast decision reader accepts,
// encoding/json decodes to the same request.
func FuzzFastDecode(f *testing.F) {
	f.Add([]byte(`{"event_id":"evt-0123456789abcdef","action":"custom","categories":{"necessary":true,"analytics":false},"revision":3,"banner":"0123456789abcdef0123456789abcdef","language":"sv","widget_version":"w1"}`))
	f.Add([]byte(` { "consent_id" : "AAAAAAAAAAAAAAAAAAAAAA" , "revision" : 0 , "categories" : { } } `))
	f.Add([]byte(`{"revision":01}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast decisionRequest
		if !fastDecodeDecision(data, &fast) {
			return
		}
		var slow decisionRequest
		if err := decodeJSON(data, &slow); err != nil {
			t.Fatalf("fast reader accepted %q, encoding/json refused: %v", data, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", data, fast, slow)
		}
	})
}

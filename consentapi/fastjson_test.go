package consentapi

import (
	"reflect"
	"testing"

	"github.com/crumbhq/crumb/consentapi/siteconfig"
)

// FuzzFastDecode checks that whatever the fast decision reader accepts,
// encoding/json decodes to the same request, with and without a site whose
// values the reader reuses.
func FuzzFastDecode(f *testing.F) {
	cfg, err := siteconfig.Load("testdata/sites.yaml")
	if err != nil {
		f.Fatal(err)
	}
	si := newSite(&cfg.Sites[0])
	si.state.Store(&bannerState{revision: 1, hash: "0123456789abcdef0123456789abcdef"})
	f.Add([]byte(`{"event_id":"evt-0123456789abcdef","action":"custom","categories":{"necessary":true,"analytics":false},"revision":3,"banner":"0123456789abcdef0123456789abcdef","language":"sv","widget_version":"w1"}`))
	f.Add([]byte(` { "consent_id" : "AAAAAAAAAAAAAAAAAAAAAA" , "revision" : 0 , "categories" : { } } `))
	f.Add([]byte(`{"event_id":"evt-0123456789abcdef","action":"accept_all","categories":{"necessary":true,"analytics":true},"revision":1,"banner":"0123456789abcdef0123456789abcdef","language":"en","widget_version":"w1","source":"placeholder"}`))
	f.Add([]byte(`{"source":"scroll","source":"banner"}`))
	f.Add([]byte(`{"source":""}`))
	f.Add([]byte(`{"source":null}`))
	f.Add([]byte(`{"Source":"script"}`))
	f.Add([]byte(`{"revision":01}`))
	f.Add([]byte(`{"action":"custom","action":"reject_all"}`))
	f.Add([]byte(`{"categories":{"analytics":true,"analytics":false}}`))
	f.Add([]byte(`{"action":"custom","Action":"reject_all"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range []*site{nil, si} {
			var fast decisionRequest
			if !fastDecodeDecision(data, &fast, s) {
				return
			}
			var slow decisionRequest
			if err := decodeJSON(data, &slow); err != nil {
				t.Fatalf("fast reader accepted %q, encoding/json refused: %v", data, err)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("%q: fast %+v, encoding/json %+v", data, fast, slow)
			}
		}
	})
}

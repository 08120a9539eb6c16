package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
)

// FuzzAppendJSON checks that Record.AppendJSON writes exactly what
// encoding/json writes, for any strings and categories.
func FuzzAppendJSON(f *testing.F) {
	f.Add("Xk3abcdefghijklmnopqrs", "evt-0123456789abcdef", "sv", "analytics", int64(1795000000123), 3, true)
	f.Add("a\"b\\c<d>&e\u2028\x01\xff", "\t\n\r", "", "", int64(0), -1, false)
	f.Fuzz(func(t *testing.T, id, event, lang, cat string, ms int64, rev int, granted bool) {
		at := time.UnixMilli(ms % (200 * 365 * 24 * 3600 * 1000)).UTC()
		r := store.Record{
			ConsentID: id, EventID: event, Site: "shop", RecordedAt: at, ExpiresAt: at.Add(time.Hour),
			Action: store.Action(lang), Categories: map[string]bool{"necessary": true, cat: granted, lang: !granted},
			Revision: rev, Banner: id + event, Language: lang, WidgetVersion: cat, UserAgent: "firefox",
		}
		want, err := json.Marshal(&r)
		if err != nil {
			return // a time outside what encoding/json writes: not an input to compare
		}
		if got := r.AppendJSON(nil); string(got) != string(want) {
			t.Fatalf("AppendJSON\n got %s\nwant %s", got, want)
		}
	})
}

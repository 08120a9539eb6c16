package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
)

// FuzzAppendJSON checks that Record.AppendJSON writes exactly what
// encoding/json writes, for any strings and categories, with and without
// a source (omitted when empty).
func FuzzAppendJSON(f *testing.F) {
	f.Add("Xk3abcdefghijklmnopqrs", "evt-0123456789abcdef", "sv", "analytics", int64(1795000000123), 3, true, "")
	f.Add("a\"b\\c<d>&e\u2028\x01\xff", "\t\n\r", "", "", int64(0), -1, false, "banner")
	f.Add("Xk3abcdefghijklmnopqrs", "evt-0123456789abcdef", "en", "marketing", int64(1795000000123), 1, false, "s<c>\"ript\xfe")
	f.Fuzz(func(t *testing.T, id, event, lang, cat string, ms int64, rev int, granted bool, source string) {
		at := time.UnixMilli(ms % (200 * 365 * 24 * 3600 * 1000)).UTC()
		r := store.Record{
			ConsentID: id, EventID: event, Site: "shop", RecordedAt: at, ExpiresAt: at.Add(time.Hour),
			Action: store.Action(lang), Categories: map[string]bool{"necessary": true, cat: granted, lang: !granted},
			Revision: rev, Banner: id + event, Language: lang, WidgetVersion: cat, UserAgent: "firefox",
			Source: store.Source(source),
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

// TestRecordWithoutSource reads a record as crumb wrote it before records
// kept a source: it decodes with no source, and a record without one is
// written byte for byte as before, so old and new records are alike in
// both stores.
func TestRecordWithoutSource(t *testing.T) {
	const old = `{"consent_id":"Xk3u9Qm0aB1c2D3e4F5g6H","event_id":"evt-0123456789abcdef","site":"shop",` +
		`"recorded_at":"2026-05-01T10:00:00.123Z","expires_at":"2026-10-30T22:00:00.123Z","action":"custom",` +
		`"categories":{"analytics":true,"marketing":false,"necessary":true},"revision":1,` +
		`"banner":"0123456789abcdef0123456789abcdef","language":"sv","widget_version":"w1","user_agent":"firefox"}`
	var r store.Record
	if err := json.Unmarshal([]byte(old), &r); err != nil {
		t.Fatal(err)
	}
	if r.Source != "" {
		t.Errorf("source %q, want none", r.Source)
	}
	if got := r.AppendJSON(nil); string(got) != old {
		t.Errorf("re-encoded\n got %s\nwant %s", got, old)
	}
	r.Source = store.SourcePlaceholder
	if got, want := string(r.AppendJSON(nil)), old[:len(old)-1]+`,"source":"placeholder"}`; got != want {
		t.Errorf("with a source\n got %s\nwant %s", got, want)
	}
}

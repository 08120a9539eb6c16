package consentapi

import (
	"strconv"
	"time"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/labstack/echo/v4"
)

// The decision endpoint is the service's hot path. These functions read
// and write its JSON without reflection. The reader accepts only the plain
// form the widget sends (ASCII strings without escapes, each key once,
// integer revision, true/false categories, a non-empty source); anything
// else goes to encoding/json, which then names the problem.
// FuzzFastDecode checks that both agree on everything the fast reader
// accepts.

// fastDecodeDecision decodes data into d if it is in the plain form;
// ok=false means "use encoding/json". Strings that name one of si's values
// (action, language, banner, category ids) share that value's memory
// instead of being copied; si may be nil.
func fastDecodeDecision(data []byte, d *decisionRequest, si *site) bool {
	p := jsonReader{data: data}
	var languages, categories []string
	var banner string
	if si != nil {
		languages, categories, banner = si.cfg.Languages, si.categories, si.state.Load().hash
	}
	if !p.byte('{') {
		return false
	}
	var seen uint16
	if p.peekByte('}') {
		return false
	}
	for {
		key, ok := p.rawStr()
		if !ok || !p.byte(':') {
			return false
		}
		var bit uint16
		switch string(key) { // compared in place: no copy of the key
		case "event_id":
			bit = 1
			d.EventID, ok = p.str()
		case "consent_id":
			bit = 2
			d.ConsentID, ok = p.str()
		case "action":
			bit = 4
			var a string
			a, ok = p.strOf(actionNames)
			d.Action = store.Action(a)
		case "categories":
			bit = 8
			d.Categories, ok = p.categories(categories)
		case "revision":
			bit = 16
			d.Revision, ok = p.int()
		case "banner":
			bit = 32
			d.Banner, ok = p.strOf([]string{banner})
		case "language":
			bit = 64
			d.Language, ok = p.strOf(languages)
		case "widget_version":
			bit = 128
			d.WidgetVersion, ok = p.str()
		case "source":
			// "" is left to encoding/json, after which readDecision tells
			// an empty source (refused) from none (not stated).
			bit = 256
			var src string
			src, ok = p.strOf(sourceNames)
			ok = ok && src != ""
			d.Source = store.Source(src)
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if p.byte(',') {
			continue
		}
		if !p.byte('}') {
			return false
		}
		p.space()
		return p.i == len(p.data)
	}
}

// jsonReader reads the plain JSON subset.
type jsonReader struct {
	data []byte
	i    int
}

func (p *jsonReader) space() {
	for p.i < len(p.data) && isSpace(p.data[p.i]) {
		p.i++
	}
}

// byte skips space and consumes c if it is next.
func (p *jsonReader) byte(c byte) bool {
	p.space()
	if p.i < len(p.data) && p.data[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonReader) peekByte(c byte) bool {
	p.space()
	return p.i < len(p.data) && p.data[p.i] == c
}

// str reads a string of printable ASCII without escapes.
func (p *jsonReader) str() (string, bool) { return p.strOf(nil) }

// strOf is str returning the element of known equal to the string, if
// any, rather than a copy.
func (p *jsonReader) strOf(known []string) (string, bool) {
	raw, ok := p.rawStr()
	if !ok {
		return "", false
	}
	for _, k := range known {
		if string(raw) == k {
			return k, true
		}
	}
	return string(raw), true
}

// rawStr reads a string of printable ASCII without escapes and returns
// its bytes, which alias the input.
func (p *jsonReader) rawStr() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			p.i++
			return p.data[start : p.i-1], true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// actionNames are the actions as strings, for strOf.
var actionNames = func() []string {
	names := make([]string, len(store.Actions))
	for i, a := range store.Actions {
		names[i] = string(a)
	}
	return names
}()

// sourceNames are the sources as strings, for strOf.
var sourceNames = func() []string {
	names := make([]string, len(store.Sources))
	for i, s := range store.Sources {
		names[i] = string(s)
	}
	return names
}()

// int reads a non-negative integer of at most 9 digits.
func (p *jsonReader) int() (int, bool) {
	p.space()
	start := p.i
	for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
		p.i++
	}
	n := p.i - start
	if n == 0 || n > 9 || (n > 1 && p.data[start] == '0') {
		return 0, false
	}
	if p.i < len(p.data) && (p.data[p.i] == '.' || p.data[p.i] == 'e' || p.data[p.i] == 'E') {
		return 0, false
	}
	v, err := strconv.Atoi(string(p.data[start:p.i]))
	return v, err == nil
}

func (p *jsonReader) literal(s string) bool {
	p.space()
	if len(p.data)-p.i >= len(s) && string(p.data[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// categories reads an object of distinct keys with true/false values;
// keys equal to one of known share its memory.
func (p *jsonReader) categories(known []string) (map[string]*bool, bool) {
	if !p.byte('{') {
		return nil, false
	}
	m := make(map[string]*bool, 4)
	if p.byte('}') {
		return m, true
	}
	yes, no := true, false
	for {
		k, ok := p.strOf(known)
		if !ok || !p.byte(':') {
			return nil, false
		}
		if _, dup := m[k]; dup {
			return nil, false
		}
		switch {
		case p.literal("true"):
			m[k] = &yes
		case p.literal("false"):
			m[k] = &no
		default:
			return nil, false
		}
		if p.byte(',') {
			continue
		}
		return m, p.byte('}')
	}
}

// writeConsent answers with the consent JSON: consent_id, event_id,
// recorded_at, expires_at (RFC 3339, UTC), categories, action, revision,
// and with full (reading a consent) language, banner and, when the record
// has one, source.
func writeConsent(c echo.Context, status int, r store.Record, full bool) error {
	b := make([]byte, 0, 512)
	b = append(b, `{"consent_id":`...)
	b = store.AppendJSONString(b, r.ConsentID)
	b = append(b, `,"event_id":`...)
	b = store.AppendJSONString(b, r.EventID)
	b = append(b, `,"recorded_at":"`...)
	b = r.RecordedAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","expires_at":"`...)
	b = r.ExpiresAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","categories":`...)
	b = store.AppendCategories(b, r.Categories)
	b = append(b, `,"action":`...)
	b = store.AppendJSONString(b, string(r.Action))
	b = append(b, `,"revision":`...)
	b = strconv.AppendInt(b, int64(r.Revision), 10)
	if full {
		b = append(b, `,"language":`...)
		b = store.AppendJSONString(b, r.Language)
		b = append(b, `,"banner":`...)
		b = store.AppendJSONString(b, r.Banner)
		if r.Source != "" {
			b = append(b, `,"source":`...)
			b = store.AppendJSONString(b, string(r.Source))
		}
	}
	b = append(b, "}\n"...)
	w := c.Response()
	w.Header()[echo.HeaderContentType] = jsonContentType
	w.WriteHeader(status)
	_, err := w.Write(b)
	return err
}

// jsonContentType is the Content-Type of JSON answers, shared (net/http
// copies header values when it writes them; nothing modifies them).
var jsonContentType = []string{echo.MIMEApplicationJSON}

package store

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the JSON of r to b: the same bytes encoding/json
// produces for r, without its reflection, for the hot path of recording a
// decision. Fields added to Record must be added here too, in field order
// and with the same omitempty; FuzzAppendJSON compares the two.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"consent_id":`...)
	b = AppendJSONString(b, r.ConsentID)
	b = append(b, `,"event_id":`...)
	b = AppendJSONString(b, r.EventID)
	b = append(b, `,"site":`...)
	b = AppendJSONString(b, r.Site)
	b = append(b, `,"recorded_at":`...)
	b = appendTime(b, r.RecordedAt)
	b = append(b, `,"expires_at":`...)
	b = appendTime(b, r.ExpiresAt)
	b = append(b, `,"action":`...)
	b = AppendJSONString(b, string(r.Action))
	b = append(b, `,"categories":`...)
	b = AppendCategories(b, r.Categories)
	b = append(b, `,"revision":`...)
	b = strconv.AppendInt(b, int64(r.Revision), 10)
	b = append(b, `,"banner":`...)
	b = AppendJSONString(b, r.Banner)
	b = append(b, `,"language":`...)
	b = AppendJSONString(b, r.Language)
	b = append(b, `,"widget_version":`...)
	b = AppendJSONString(b, r.WidgetVersion)
	b = append(b, `,"user_agent":`...)
	b = AppendJSONString(b, r.UserAgent)
	if r.Source != "" { // omitempty
		b = append(b, `,"source":`...)
		b = AppendJSONString(b, string(r.Source))
	}
	return append(b, '}')
}

// AppendCategories appends a category map as a JSON object with sorted
// keys, as encoding/json writes it; nil is null.
func AppendCategories(b []byte, cats map[string]bool) []byte {
	if cats == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, 8)
	for k := range cats {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, k)
		b = append(b, ':')
		b = strconv.AppendBool(b, cats[k])
	}
	return append(b, '}')
}

func appendTime(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		// encoding/json refuses these; keep the output valid JSON.
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string escaped as encoding/json
// does: control characters, quote, backslash, <, >, &, U+2028 and U+2029
// escaped, invalid UTF-8 replaced by U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

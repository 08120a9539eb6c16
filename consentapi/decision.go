package consentapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/labstack/echo/v4"
)

// MaxBody is the largest request body the public API reads.
const MaxBody = 4 << 10

// decisionRequest is the body of POST /v1/sites/{site}/consents.
type decisionRequest struct {
	EventID       string           `json:"event_id"`
	ConsentID     string           `json:"consent_id"`
	Action        store.Action     `json:"action"`
	Categories    map[string]*bool `json:"categories"` // pointers tell null from false
	Revision      int              `json:"revision"`
	Banner        string           `json:"banner"`
	Language      string           `json:"language"`
	WidgetVersion string           `json:"widget_version"`
	// Source is what triggered the decision (store.Sources); optional,
	// "" when the body has none.
	Source store.Source `json:"source"`
	// noRevision: the body has no revision, or null (readDecision sets
	// it, for the error message).
	noRevision bool
	// sourceRaw is the JSON of a source that decoded to "" (null, an
	// empty string): given, so refused rather than read as "not stated"
	// (readDecision sets it, for the error message).
	sourceRaw string
}

// impressionRequest is the body of POST /v1/sites/{site}/impressions.
type impressionRequest struct {
	Revision int    `json:"revision"`
	Language string `json:"language"`
}

// readDecision reads a decision body for site si: the fast reader for the
// plain form, encoding/json for everything else.
func readDecision(c echo.Context, d *decisionRequest, si *site) error {
	buf, err := readBody(c)
	if err != nil {
		return err
	}
	if !fastDecodeDecision(buf, d, si) {
		*d = decisionRequest{}
		if err := decodeJSON(buf, d); err != nil {
			return err
		}
		// The fast reader takes a source only as a non-empty string, so
		// only here can a body have one that decoded to "".
		if d.Source == "" {
			d.sourceRaw = rawValue(buf, "source")
		}
	}
	if d.Revision == 0 {
		d.noRevision = !hasValue(buf, "revision")
	}
	return nil
}

// readJSON checks the content type and size of the body and decodes it
// into v, strictly: unknown fields, wrong types and trailing data are 400.
func readJSON(c echo.Context, v any) error {
	buf, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeJSON(buf, v)
}

// readBody checks the content type and size of the body and reads it,
// whole: a body that ends before its Content-Length or its last chunk
// (the client went away, or half-closed its side of the connection) is
// refused, as is one that does not arrive within the server's
// ReadTimeout; no error names a socket address.
func readBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	ct := r.Header.Get(echo.HeaderContentType)
	if ct != echo.MIMEApplicationJSON {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != echo.MIMEApplicationJSON {
			return nil, errStatus(http.StatusUnsupportedMediaType, "the body must be JSON, with Content-Type: application/json")
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
			return nil, errStatus(http.StatusUnsupportedMediaType, "charset %q: JSON is UTF-8 (RFC 8259)", cs)
		}
	}
	if r.ContentLength > MaxBody {
		return nil, errStatus(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", MaxBody)
	}
	size := MaxBody + 1
	if r.ContentLength >= 0 {
		size = int(r.ContentLength) + 1 // one more byte to see a body longer than announced
	}
	// Not io.ReadFull: it reports a body shorter than the buffer, the
	// normal case, as io.ErrUnexpectedEOF, the error net/http gives for a
	// body cut short.
	buf := make([]byte, size)
	n := 0
	var err error
	for n < size && err == nil {
		var m int
		m, err = r.Body.Read(buf[n:])
		n += m
	}
	var ne net.Error
	switch {
	case n > MaxBody:
		return nil, errStatus(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", MaxBody)
	case n == size && r.ContentLength >= 0:
		return nil, errStatus(http.StatusBadRequest, "the body is longer than its Content-Length")
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		// The connection is past its read deadline: nothing more can be
		// read on it (RFC 9110 §15.5.9: close it).
		c.Response().Header().Set(echo.HeaderConnection, "close")
		return nil, errStatus(http.StatusRequestTimeout, "the request body arrived too slowly")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF) && r.ContentLength >= 0 && int64(n) < r.ContentLength:
		return nil, errStatus(http.StatusBadRequest, "incomplete body: the connection ended before the whole body arrived")
	case err != nil && !errors.Is(err, io.EOF):
		// Malformed chunked encoding, a reset connection: the error text
		// of net/http names the socket addresses, so it is not echoed.
		return nil, errStatus(http.StatusBadRequest, "the body could not be read: malformed or cut short")
	}
	return buf[:n], nil
}

// decodeJSON decodes one JSON object into v and names what is wrong.
// A key given twice in one object is refused, not resolved (encoding/json
// would take the last): what is recorded must not come from ambiguous input.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				return badField("", "the body must be a JSON object")
			}
			if te.Type == sourceType {
				return badSource("of JSON type " + te.Value) // "number", "bool", "object", "array"
			}
			return badField(field, "wrong type: want %s", jsonType(te.Type.String()))
		case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return badField("", "malformed JSON")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badField(field, "unknown field")
		default:
			return badField("", "malformed JSON: %v", err)
		}
	}
	if dec.More() {
		return badField("", "malformed JSON: data after the object")
	}
	var rest [1]byte
	if n, _ := dec.Buffered().Read(rest[:]); n > 0 && !isSpace(rest[0]) {
		return badField("", "malformed JSON: data after the object")
	}
	if i := skipSpace(data); i == len(data) || data[i] != '{' {
		return badField("", "the body must be a JSON object") // null decodes without error
	}
	if path := duplicateKey(data); path != "" {
		return badField(path, "given more than once: give each field once")
	}
	return nil
}

func skipSpace(data []byte) int {
	i := 0
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// duplicateKey returns the path of the first key given twice in one object
// of the JSON value data ("action", "categories.analytics"), or "". Keys
// are compared as encoding/json matches them to struct fields, ignoring
// case ("Action" repeats "action"); in a map such keys are distinct, but a
// request spelling one key two ways is ambiguous anyway. data is a value
// encoding/json has decoded.
func duplicateKey(data []byte) string {
	type frame struct {
		object  bool
		wantKey bool // an object's next token is a key or its end
		path    string
		key     string // the key whose value comes next
		keys    []string
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		n := len(stack)
		if n > 0 && stack[n-1].wantKey {
			f := &stack[n-1]
			if k, ok := tok.(string); ok {
				for _, seen := range f.keys {
					if strings.EqualFold(seen, k) {
						return f.path + seen
					}
				}
				f.keys = append(f.keys, k)
				f.key, f.wantKey = k, false
				continue
			}
			// '}': the object ends.
			stack = stack[:n-1]
		} else {
			path := ""
			if n > 0 {
				path = stack[n-1].path
				if stack[n-1].object {
					path += stack[n-1].key + "."
				}
			}
			switch tok {
			case json.Delim('{'):
				stack = append(stack, frame{object: true, wantKey: true, path: path})
				continue
			case json.Delim('['):
				stack = append(stack, frame{path: path})
				continue
			case json.Delim(']'):
				stack = stack[:n-1]
			}
		}
		// A value ended.
		if len(stack) == 0 {
			return ""
		}
		if f := &stack[len(stack)-1]; f.object {
			f.wantKey = true
		}
	}
}

// rawValue returns the JSON of key's value in the object data (key
// compared as encoding/json does), null included, or "" if it has none.
func rawValue(data []byte, key string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return string(v)
		}
	}
	return ""
}

// hasValue reports whether the JSON object data has key (compared as
// encoding/json does) with a value other than null.
func hasValue(data []byte, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return false
	}
	for k, v := range m {
		if strings.EqualFold(k, key) && string(v) != "null" {
			return true
		}
	}
	return false
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\r' || b == '\t' }

// jsonType names a Go type the way a JSON client thinks of it.
func jsonType(goType string) string {
	switch {
	case goType == "string", strings.HasSuffix(goType, ".Action"):
		return "a string"
	case goType == "int", goType == "int64":
		return "an integer"
	case goType == "bool", goType == "*bool":
		return "true or false"
	case strings.HasPrefix(goType, "map["):
		return "an object"
	default:
		return goType
	}
}

// validate checks a decision against the site and returns the categories
// as plain booleans.
func (si *site) validate(d *decisionRequest, current int) (map[string]bool, error) {
	if err := checkToken(d.EventID, 16, 64); err != nil {
		return nil, badField("event_id", "%s", err)
	}
	if d.ConsentID != "" && !validConsentID(d.ConsentID) {
		return nil, badField("consent_id", "not a consent id issued by this service")
	}
	if d.Action == "" {
		return nil, badField("action", "missing: want accept_all, reject_all, custom, withdraw or gpc")
	}
	if !d.Action.Valid() {
		return nil, badField("action", "%q: want accept_all, reject_all, custom, withdraw or gpc", d.Action)
	}
	if d.Revision == 0 && d.noRevision {
		return nil, badField("revision", "missing: want a revision this site has served (1 to %d)", current)
	}
	if d.Revision < 1 || d.Revision > current {
		return nil, badField("revision", "%d: want a revision this site has served (1 to %d)", d.Revision, current)
	}
	if !isHex(d.Banner, 32) {
		return nil, badField("banner", "want the 32-character banner hash from the widget config")
	}
	if !si.languages[d.Language] {
		return nil, badField("language", "%q is not a language of this site", d.Language)
	}
	if !validVersion(d.WidgetVersion) {
		return nil, badField("widget_version", "want the widget bundle hash: 1 to 64 characters of A-Z, a-z, 0-9, '.', _ and -")
	}
	switch {
	case d.sourceRaw != "":
		return nil, badSource(d.sourceRaw)
	case d.Source != "" && !d.Source.Valid():
		return nil, badSource(strconv.Quote(string(d.Source)))
	}
	cats, err := si.categoriesOf(d)
	if err != nil {
		return nil, err
	}
	return cats, nil
}

// categoriesOf checks that every site category is present exactly as the
// action allows and no other is.
func (si *site) categoriesOf(d *decisionRequest) (map[string]bool, error) {
	if d.Categories == nil {
		return nil, badField("categories", "missing: give every category of the site as true or false")
	}
	for id := range d.Categories {
		if !si.known[id] {
			return nil, badField("categories."+id, "not a category of this site")
		}
	}
	cats := make(map[string]bool, len(si.categories))
	for _, id := range si.categories {
		v, ok := d.Categories[id]
		switch {
		case !ok:
			return nil, badField("categories."+id, "missing: give every category of the site as true or false")
		case v == nil:
			return nil, badField("categories."+id, "wrong type: want true or false")
		case id == "necessary" && !*v:
			return nil, badField("categories.necessary", "necessary cookies cannot be refused; send true")
		}
		granted := *v
		if id != "necessary" {
			switch {
			case d.Action == store.AcceptAll && !granted:
				return nil, badField("categories."+id, "accept_all grants every category")
			case d.Action == store.RejectAll && granted:
				return nil, badField("categories."+id, "%s refuses every category but necessary", d.Action)
			case d.Action == store.GPC && granted && si.gpc[id]:
				return nil, badField("categories."+id, "the Global Privacy Control signal refuses this category")
			}
		}
		cats[id] = granted
	}
	if d.Action == store.Withdraw && !refusesAny(cats) {
		// A withdrawal takes back at least one purpose; it may keep others
		// (withdrawing statistics but not marketing is still a withdrawal).
		return nil, badField("categories", "withdraw refuses at least one category")
	}
	return cats, nil
}

// sourceType is the Go type of decisionRequest.Source, for decodeJSON.
var sourceType = reflect.TypeFor[store.Source]()

// sourceWant lists the sources a decision may name.
var sourceWant = func() string {
	q := make([]string, len(store.Sources))
	for i, s := range store.Sources {
		q[i] = strconv.Quote(string(s))
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}()

// badSource is the 400 for a source other than store.Sources; got
// describes what was sent (a JSON value or type).
func badSource(got string) error {
	return badField("source", "source %s: want %s, or no source when it is not known", got, sourceWant)
}

// refusesAny reports whether some category is refused.
func refusesAny(cats map[string]bool) bool {
	for _, g := range cats {
		if !g {
			return true
		}
	}
	return false
}

// checkToken accepts min to max characters of [A-Za-z0-9_-].
func checkToken(s string, min, max int) error {
	if s == "" {
		return errors.New("missing")
	}
	ok := len(s) >= min && len(s) <= max
	for i := 0; ok && i < len(s); i++ {
		ok = isTokenByte(s[i])
	}
	if !ok {
		return fmt.Errorf("want %d to %d characters of A-Z, a-z, 0-9, _ and -", min, max)
	}
	return nil
}

func validVersion(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

func isTokenByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-'
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

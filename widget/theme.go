package widget

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Theme is a site's banner colours, as "#rgb" or "#rrggbb". Empty fields take
// the defaults of DefaultTheme. Accept and Reject may be given colours of
// their own, apart from the Settings button's, but Validate refuses any
// theme in which they differ from each other (R7).
type Theme struct {
	Background       string `yaml:"background" json:"background"`
	Text             string `yaml:"text" json:"text"`
	Link             string `yaml:"link" json:"link"`
	ButtonBackground string `yaml:"button_background" json:"button_background"`
	ButtonText       string `yaml:"button_text" json:"button_text"`
	AcceptBackground string `yaml:"accept_background" json:"accept_background"`
	AcceptText       string `yaml:"accept_text" json:"accept_text"`
	RejectBackground string `yaml:"reject_background" json:"reject_background"`
	RejectText       string `yaml:"reject_text" json:"reject_text"`
	Focus            string `yaml:"focus" json:"focus"`
}

// DefaultTheme is the banner's look when a site sets no colours: dark text
// on white, and the same dark button for every choice.
var DefaultTheme = Theme{
	Background:       "#ffffff",
	Text:             "#1f2328",
	Link:             "#0a58ca",
	ButtonBackground: "#1f2328",
	ButtonText:       "#ffffff",
	Focus:            "#0a58ca",
}

// MinContrast is the WCAG 2.1 SC 1.4.3 ratio every text must reach against
// its own background.
const MinContrast = 4.5

// Resolved returns t with empty fields filled from DefaultTheme and the
// accept and reject colours filled from the shared button colours.
func (t Theme) Resolved() Theme {
	fill := func(v *string, def string) {
		if strings.TrimSpace(*v) == "" {
			*v = def
		}
	}
	fill(&t.Background, DefaultTheme.Background)
	fill(&t.Text, DefaultTheme.Text)
	fill(&t.Link, DefaultTheme.Link)
	fill(&t.ButtonBackground, DefaultTheme.ButtonBackground)
	fill(&t.ButtonText, DefaultTheme.ButtonText)
	fill(&t.Focus, DefaultTheme.Focus)
	fill(&t.AcceptBackground, t.ButtonBackground)
	fill(&t.AcceptText, t.ButtonText)
	fill(&t.RejectBackground, t.ButtonBackground)
	fill(&t.RejectText, t.ButtonText)
	return t
}

// css is the :host rule that gives the banner's stylesheet the colours of
// a validated, resolved theme as custom properties named by the initials of
// the JSON fields (button_background is --bb; see src/style.css).
func (t Theme) css() string {
	return ":host{--b:" + t.Background + ";--t:" + t.Text + ";--l:" + t.Link + ";--f:" + t.Focus +
		";--bb:" + t.ButtonBackground + ";--bt:" + t.ButtonText + ";--ab:" + t.AcceptBackground +
		";--at:" + t.AcceptText + ";--rb:" + t.RejectBackground + ";--rt:" + t.RejectText + "}"
}

// ThemeError names the theme field that is wrong and why.
type ThemeError struct {
	Field  string // yaml name of the field, e.g. "reject_text"
	Reason string
}

func (e *ThemeError) Error() string { return fmt.Sprintf("theme.%s: %s", e.Field, e.Reason) }

// Validate checks that every colour parses, every text reaches MinContrast
// against its background, and the Accept and Reject buttons have the same
// colours. It returns a *ThemeError.
func (t Theme) Validate() error {
	r := t.Resolved()
	fields := []struct{ name, value string }{
		{"background", r.Background}, {"text", r.Text}, {"link", r.Link},
		{"button_background", r.ButtonBackground}, {"button_text", r.ButtonText},
		{"accept_background", r.AcceptBackground}, {"accept_text", r.AcceptText},
		{"reject_background", r.RejectBackground}, {"reject_text", r.RejectText},
		{"focus", r.Focus},
	}
	for _, f := range fields {
		if _, err := parseColour(f.value); err != nil {
			return &ThemeError{Field: f.name, Reason: err.Error()}
		}
	}
	pairs := []struct{ field, fg, bg, what string }{
		{"text", r.Text, r.Background, "banner text"},
		{"link", r.Link, r.Background, "link text"},
		{"button_text", r.ButtonText, r.ButtonBackground, "settings button text"},
		{"accept_text", r.AcceptText, r.AcceptBackground, "Accept all text"},
		{"reject_text", r.RejectText, r.RejectBackground, "Reject all text"},
	}
	for _, p := range pairs {
		if c := Contrast(p.fg, p.bg); c < MinContrast {
			return &ThemeError{Field: p.field, Reason: fmt.Sprintf("%s %s on %s has contrast %.2f:1, below %.1f:1", p.what, p.fg, p.bg, c, MinContrast)}
		}
	}
	// Same colours, not merely enough contrast: a green Accept beside a grey
	// Reject passes every contrast test and still favours Accept (R7:
	// neither choice styled to be favoured, IMY and PTS 2023).
	if !sameColour(r.AcceptBackground, r.RejectBackground) {
		return &ThemeError{Field: "reject_background", Reason: fmt.Sprintf("Reject all's background %s differs from Accept all's %s; both choices must look the same (set button_background for both)", r.RejectBackground, r.AcceptBackground)}
	}
	if !sameColour(r.AcceptText, r.RejectText) {
		return &ThemeError{Field: "reject_text", Reason: fmt.Sprintf("Reject all's text colour %s differs from Accept all's %s; both choices must look the same (set button_text for both)", r.RejectText, r.AcceptText)}
	}
	return nil
}

// Contrast returns the WCAG 2.1 contrast ratio of two colours, from 1 to 21.
// Unparseable colours give 1.
func Contrast(a, b string) float64 {
	ca, err1 := parseColour(a)
	cb, err2 := parseColour(b)
	if err1 != nil || err2 != nil {
		return 1
	}
	la, lb := luminance(ca), luminance(cb)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// sameColour reports whether two parseable colours are the same colour,
// whatever their spelling ("#FFF", "#ffffff").
func sameColour(a, b string) bool {
	ca, _ := parseColour(a)
	cb, _ := parseColour(b)
	return ca == cb
}

func parseColour(s string) ([3]float64, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "#") || (len(s) != 4 && len(s) != 7) {
		return [3]float64{}, fmt.Errorf("colour %q: want #rgb or #rrggbb", s)
	}
	hex := s[1:]
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	var c [3]float64
	for i := range 3 {
		v, err := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		if err != nil {
			return c, fmt.Errorf("colour %q: want #rgb or #rrggbb", s)
		}
		c[i] = float64(v) / 255
	}
	return c, nil
}

func luminance(c [3]float64) float64 {
	lin := func(v float64) float64 {
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c[0]) + 0.7152*lin(c[1]) + 0.0722*lin(c[2])
}

package widget_test

import (
	"errors"
	"testing"

	"github.com/crumbhq/crumb/widget"
)

func TestThemeValidate(t *testing.T) {
	tests := []struct {
		name      string
		theme     widget.Theme
		wantField string // "" means valid
	}{
		{"default", widget.Theme{}, ""},
		{"brand colours", widget.Theme{ButtonBackground: "#004b87", ButtonText: "#fff"}, ""},
		{"low contrast text", widget.Theme{Text: "#bbbbbb"}, "text"},
		{"low contrast button", widget.Theme{ButtonBackground: "#777777", ButtonText: "#888888"}, "button_text"},
		{"faint reject text", widget.Theme{RejectText: "#666666", RejectBackground: "#1f2328"}, "reject_text"},
		{"reject blends into banner", widget.Theme{AcceptBackground: "#1f2328", AcceptText: "#ffffff", RejectBackground: "#ffffff", RejectText: "#1f2328"}, "reject_background"},
		{"green accept beside grey reject", widget.Theme{AcceptBackground: "#00803c", AcceptText: "#ffffff", RejectBackground: "#5a5a5a", RejectText: "#ffffff"}, "reject_background"},
		{"reject louder than accept", widget.Theme{AcceptBackground: "#555555", AcceptText: "#ffffff", RejectBackground: "#000000", RejectText: "#ffffff"}, "reject_background"},
		{"same background, other text colour", widget.Theme{AcceptText: "#ffffff", RejectText: "#f0f0f0"}, "reject_text"},
		{"same colours spelt differently", widget.Theme{AcceptBackground: "#004B87", RejectBackground: "#004b87", AcceptText: "#FFF", RejectText: "#ffffff"}, ""},
		{"accept and reject apart from settings", widget.Theme{ButtonBackground: "#eeeeee", ButtonText: "#1f2328", AcceptBackground: "#004b87", AcceptText: "#fff", RejectBackground: "#004b87", RejectText: "#fff"}, ""},
		{"not a colour", widget.Theme{Link: "blue"}, "link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.theme.Validate()
			var te *widget.ThemeError
			switch {
			case tt.wantField == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantField != "" && !errors.As(err, &te):
				t.Fatalf("Validate() = %v, want a *ThemeError for %s", err, tt.wantField)
			case tt.wantField != "" && te.Field != tt.wantField:
				t.Fatalf("Validate() field = %s (%v), want %s", te.Field, err, tt.wantField)
			}
		})
	}
}

func TestContrast(t *testing.T) {
	if got := widget.Contrast("#000", "#fff"); got < 20.99 || got > 21.01 {
		t.Fatalf("Contrast(black, white) = %.3f, want 21", got)
	}
	if got := widget.Contrast("#777", "#777"); got != 1 {
		t.Fatalf("Contrast(x, x) = %.3f, want 1", got)
	}
}

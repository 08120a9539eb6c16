package scanner

import "testing"

// TestGrantedCategory: only a grant: mode names a category; none and
// accept-all name none, so no caller can mistake them for one.
func TestGrantedCategory(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want Category
		ok   bool
	}{
		{"grant:analytics", Analytics, true},
		{"grant:", "", true},
		{ModeNone, "", false},
		{ModeAcceptAll, "", false},
		{"analytics", "", false},
	} {
		if c, ok := GrantedCategory(tc.mode); c != tc.want || ok != tc.ok {
			t.Errorf("GrantedCategory(%q) = %q, %v; want %q, %v", tc.mode, c, ok, tc.want, tc.ok)
		}
	}
}

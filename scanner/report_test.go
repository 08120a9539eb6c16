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

// TestPageFailed: a page with an error or an HTTP error status is a page
// with errors; a redirect or a page that got no response but no error is
// not.
func TestPageFailed(t *testing.T) {
	for _, tc := range []struct {
		page    Page
		failed  bool
		problem string
	}{
		{Page{Status: 200}, false, ""},
		{Page{Status: 304}, false, ""},
		{Page{Status: 404}, true, "HTTP 404"},
		{Page{Status: 503, Error: "did not finish loading"}, true, "HTTP 503; did not finish loading"},
		{Page{Error: "no response"}, true, "no response"},
	} {
		if got := tc.page.Failed(); got != tc.failed {
			t.Errorf("%+v: Failed() = %v, want %v", tc.page, got, tc.failed)
		}
		if got := tc.page.Problem(); got != tc.problem {
			t.Errorf("%+v: Problem() = %q, want %q", tc.page, got, tc.problem)
		}
	}
}

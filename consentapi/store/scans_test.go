package store_test

import (
	"testing"

	"github.com/crumbhq/crumb/consentapi/store"
	"github.com/crumbhq/crumb/scanner"
)

func TestOverrideMatches(t *testing.T) {
	it := scanner.Item{Kind: scanner.Cookie, Name: "_hjSession_3123456", Domain: ".shop.se"}
	tests := []struct {
		o    store.Override
		want bool
	}{
		{store.Override{Name: "_hjSession_3123456"}, true},
		{store.Override{Name: "_hjSession_*"}, true},
		{store.Override{Name: "*_3123456"}, true},
		{store.Override{Name: "_hj*_*456"}, true},
		{store.Override{Name: "*"}, true},
		{store.Override{Name: "_hjSession"}, false},
		{store.Override{Name: "_hjSessionUser_*"}, false},
		{store.Override{Name: "_hj*_*457"}, false},
		{store.Override{Name: "_hjSession_*", Domain: "shop.se"}, true},
		{store.Override{Name: "_hjSession_*", Domain: "other.se"}, false},
		{store.Override{Name: "_hjSession_*", Kind: scanner.Cookie}, true},
		{store.Override{Name: "_hjSession_*", Kind: scanner.LocalStorage}, false},
	}
	for _, tt := range tests {
		if got := tt.o.Matches(it); got != tt.want {
			t.Errorf("%+v matches %s: %v, want %v", tt.o, it.Name, got, tt.want)
		}
	}
}

package declaration_test

import (
	"testing"
	"time"

	"github.com/crumbhq/crumb/scanner/declaration"
)

func TestLifetime(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		d       time.Duration
		session bool
		sv, en  string
	}{
		{0, true, "sessionen", "session"},
		{400 * day, true, "sessionen", "session"},
		{0, false, "okänd", "unknown"},
		{-time.Hour, false, "okänd", "unknown"},
		{10 * time.Second, false, "10 sekunder", "10 seconds"},
		{time.Second, false, "1 sekund", "1 second"},
		{time.Minute, false, "1 minut", "1 minute"},
		{30 * time.Minute, false, "30 minuter", "30 minutes"},
		{59*time.Minute + 50*time.Second, false, "60 minuter", "60 minutes"},
		{time.Hour, false, "1 timme", "1 hour"},
		{24 * time.Hour, false, "24 timmar", "24 hours"},
		{2 * day, false, "2 dagar", "2 days"},
		{day + 23*time.Hour + 59*time.Minute, false, "2 dagar", "2 days"},
		{14 * day, false, "14 dagar", "14 days"},
		{90 * day, false, "3 månader", "3 months"},
		{45 * day, false, "1 månad", "1 month"},
		{180 * day, false, "6 månader", "6 months"},
		{365 * day, false, "1 år", "1 year"},
		{395 * day, false, "13 månader", "13 months"},
		{400*day - time.Second, false, "13 månader", "13 months"},
		{730 * day, false, "2 år", "2 years"},
		{30 * 365 * day, false, "30 år", "30 years"},
	}
	for _, tt := range tests {
		if got := declaration.Lifetime(tt.d, tt.session, "sv"); got != tt.sv {
			t.Errorf("Lifetime(%v, %v, sv) = %q, want %q", tt.d, tt.session, got, tt.sv)
		}
		if got := declaration.Lifetime(tt.d, tt.session, "en"); got != tt.en {
			t.Errorf("Lifetime(%v, %v, en) = %q, want %q", tt.d, tt.session, got, tt.en)
		}
	}
	if got := declaration.Lifetime(2*day, false, "de"); got != "2 days" {
		t.Errorf("unknown language: %q, want English", got)
	}
}

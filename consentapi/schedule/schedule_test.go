package schedule_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/crumbhq/crumb/consentapi/schedule"
)

// at parses a UTC time written as "2006-01-02 15:04".
func at(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// Monday 23 November 2026, 09:30 UTC.
const from = "2026-11-23 09:30"

func TestCron(t *testing.T) {
	tests := []struct {
		spec string
		prev string
		next []string // the next runs after from, in order
	}{
		{"0 3 * * 1", "2026-11-23 03:00", []string{"2026-11-30 03:00", "2026-12-07 03:00"}},
		{"*/15 * * * *", "2026-11-23 09:30", []string{"2026-11-23 09:45", "2026-11-23 10:00"}},
		{"5/20 * * * *", "2026-11-23 09:25", []string{"2026-11-23 09:45", "2026-11-23 10:05"}},
		{"0 12 1,15 * *", "2026-11-15 12:00", []string{"2026-12-01 12:00", "2026-12-15 12:00"}},
		{"0 0 29 2 *", "2024-02-29 00:00", []string{"2028-02-29 00:00", "2032-02-29 00:00"}},
		// Both day fields restricted: either matches (1 December is a Tuesday).
		{"0 9 1 * mon", "2026-11-23 09:00", []string{"2026-11-30 09:00", "2026-12-01 09:00", "2026-12-07 09:00"}},
		{"30 8 * jan-mar sun", "2026-03-29 08:30", []string{"2027-01-03 08:30", "2027-01-10 08:30"}},
		{"0 0 * * 7", "2026-11-22 00:00", []string{"2026-11-29 00:00"}},
		{"0 22 * * 1-5", "2026-11-20 22:00", []string{"2026-11-23 22:00", "2026-11-24 22:00"}},
		{"59 23 31 12 *", "2025-12-31 23:59", []string{"2026-12-31 23:59"}},
		{"@daily", "2026-11-23 00:00", []string{"2026-11-24 00:00"}},
		{"@weekly", "2026-11-22 00:00", []string{"2026-11-29 00:00"}},
		{"@monthly", "2026-11-01 00:00", []string{"2026-12-01 00:00", "2027-01-01 00:00"}},
		{"@hourly", "2026-11-23 09:00", []string{"2026-11-23 10:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := schedule.Parse(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			now := at(t, from)
			if got, want := s.Prev("shop", now), at(t, tt.prev); !got.Equal(want) {
				t.Errorf("Prev(%s) = %s, want %s", from, got, want)
			}
			for _, w := range tt.next {
				got := s.Next("shop", now)
				if want := at(t, w); !got.Equal(want) {
					t.Fatalf("Next(%s) = %s, want %s", now, got, want)
				}
				if p := s.Prev("shop", got); !p.Equal(got) {
					t.Errorf("Prev(%s) = %s, want the run itself", got, p)
				}
				now = got
			}
		})
	}
}

func TestInterval(t *testing.T) {
	now := at(t, from)
	for _, tt := range []struct {
		spec  string
		every time.Duration
	}{
		{"", 7 * 24 * time.Hour},
		{"weekly", 7 * 24 * time.Hour},
		{"daily", 24 * time.Hour},
		{"hourly", time.Hour},
		{"36h", 36 * time.Hour},
		{"@every 90m", 90 * time.Minute},
	} {
		s, err := schedule.Parse(tt.spec)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.spec, err)
		}
		offsets := map[time.Time]bool{}
		for _, site := range []string{"shop", "blog", "news", "docs"} {
			prev, next := s.Prev(site, now), s.Next(site, now)
			if prev.After(now) || !next.After(now) || next.Sub(prev) != tt.every {
				t.Errorf("%q for %s: Prev=%s Next=%s around %s, want %s apart around now", tt.spec, site, prev, next, now, tt.every)
			}
			if again := s.Prev(site, prev); !again.Equal(prev) {
				t.Errorf("%q: Prev of a run is %s, want the run %s", tt.spec, again, prev)
			}
			offsets[prev] = true
		}
		if len(offsets) < 2 {
			t.Errorf("%q: four sites share one run time; want them spread", tt.spec)
		}
	}
	var zero schedule.Schedule
	if got := zero.String(); got != "weekly" {
		t.Errorf("zero Schedule = %q, want weekly", got)
	}
	if got, want := zero.Next("shop", now), schedule.MustParse("weekly").Next("shop", now); !got.Equal(want) {
		t.Errorf("zero Schedule next = %s, want the weekly %s", got, want)
	}
}

// TestLongestGap: the longest time between two runs, which CrumbScanOverdue
// allows (plus a day) before a site's scans count as overdue.
func TestLongestGap(t *testing.T) {
	day := 24 * time.Hour
	for _, tt := range []struct {
		spec string
		want time.Duration
	}{
		{"weekly", 7 * day},
		{"daily", day},
		{"@every 90m", 90 * time.Minute},
		{"0 3 * * 1-5", 3 * day}, // Friday to Monday
		{"0 3 * * 1,4", 4 * day}, // Thursday to Monday
		{"@monthly", 31 * day},   // December to January
		{"*/5 * * * *", 5 * time.Minute},
		{"off", 0},
	} {
		if got := schedule.MustParse(tt.spec).LongestGap("shop", at(t, from)); got != tt.want {
			t.Errorf("%s: longest gap %v, want %v", tt.spec, got, tt.want)
		}
	}
}

func TestOff(t *testing.T) {
	s := schedule.MustParse("off")
	if !s.Off() || !s.Prev("shop", time.Now()).IsZero() || !s.Next("shop", time.Now()).IsZero() {
		t.Errorf("off schedule runs: %+v", s)
	}
}

func TestParseErrors(t *testing.T) {
	for _, spec := range []string{
		"0 3 * *", "0 3 * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
		"5-1 * * * *", "*/0 * * * *", "mon * * * *", "0 0 * * mon-sun", "0 0 30 2 *", "0 0 31 4,6,9,11 *",
		"fortnightly", "@every 10s", "-5h", "30s", "@yearlyish",
	} {
		if _, err := schedule.Parse(spec); err == nil {
			t.Errorf("Parse(%q): no error", spec)
		}
	}
}

func TestScheduleJSON(t *testing.T) {
	var v struct {
		Schedule schedule.Schedule `json:"schedule"`
	}
	if err := json.Unmarshal([]byte(`{"schedule":"0 3 * * 1"}`), &v); err != nil {
		t.Fatal(err)
	}
	if got := v.Schedule.Next("shop", at(t, from)); !got.Equal(at(t, "2026-11-30 03:00")) {
		t.Errorf("decoded schedule's next run = %s", got)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"schedule":"0 3 * * 1"}` {
		t.Errorf("encoded = %s", b)
	}
	if err := json.Unmarshal([]byte(`{"schedule":"0 3 * *"}`), &v); err == nil {
		t.Error("bad schedule decoded without error")
	}
}

func TestRunID(t *testing.T) {
	got := schedule.RunID("shop", time.Date(2026, 11, 30, 3, 0, 0, 0, time.FixedZone("CET", 3600)))
	if want := "shop@20261130T020000Z"; got != want {
		t.Errorf("RunID = %q, want %q", got, want)
	}
}

// Package schedule decides when each site is scanned and runs the scans:
// the Scheduler offers every due scheduled run to the job queue (which
// keeps exactly one copy, however many replicas offer it), and Workers take
// jobs from the queue, run the injected scan, and hand the report on. The
// scan itself is a function value; this package never drives a browser.
package schedule

import (
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"time"
)

// DefaultSpec is the schedule of a site that names none (R30: weekly).
const DefaultSpec = "weekly"

// MinInterval is the shortest interval a schedule may have.
const MinInterval = time.Minute

// Schedule says when a site is scanned: every fixed interval, at times set
// by a cron expression, or never. The zero value is the default, weekly.
//
// Interval schedules are offset per site by a hash of the site id, so a
// hundred weekly sites do not all start at the same minute; every replica
// computes the same times. Cron expressions are evaluated in UTC.
type Schedule struct {
	spec  string
	every time.Duration
	cron  *cron
	off   bool
}

// Parse reads a schedule:
//
//	""  or "weekly"    every 7 days (the default)
//	"daily", "hourly"  every 24 hours, every hour
//	"@every 36h", "36h" every Go duration (at least a minute)
//	"0 3 * * 1"         five-field cron, UTC: 03:00 every Monday
//	"@daily", "@weekly" cron shorthands, at midnight UTC (Sunday for weekly)
//	"off"               no scheduled scans (scans on request only)
func Parse(spec string) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	switch spec {
	case "", "weekly":
		return Schedule{spec: "weekly", every: 7 * 24 * time.Hour}, nil
	case "daily":
		return Schedule{spec: spec, every: 24 * time.Hour}, nil
	case "hourly":
		return Schedule{spec: spec, every: time.Hour}, nil
	case "off", "never":
		return Schedule{spec: "off", off: true}, nil
	}
	if d, ok := strings.CutPrefix(spec, "@every "); ok || !strings.ContainsAny(spec, " @*") {
		if !ok {
			d = spec
		}
		every, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil {
			return Schedule{}, fmt.Errorf("schedule %q: not weekly, daily, hourly, off, a duration or a cron expression", spec)
		}
		if every < MinInterval {
			return Schedule{}, fmt.Errorf("schedule %q: interval shorter than %s", spec, MinInterval)
		}
		return Schedule{spec: spec, every: every.Truncate(time.Second)}, nil
	}
	c, err := parseCron(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf("schedule: %w", err)
	}
	// An expression such as "0 0 30 2 *" parses but never fires.
	if c.next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return Schedule{}, fmt.Errorf("schedule %q: never matches a date", spec)
	}
	return Schedule{spec: spec, cron: &c}, nil
}

// MustParse is Parse for schedules known to be valid; it panics otherwise.
func MustParse(spec string) Schedule {
	s, err := Parse(spec)
	if err != nil {
		panic(err)
	}
	return s
}

// String returns the schedule as Parse reads it.
func (s Schedule) String() string {
	if s.spec == "" {
		return DefaultSpec
	}
	return s.spec
}

// MarshalText writes the schedule as Parse reads it.
func (s Schedule) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses text with Parse, so a Schedule can sit in a YAML or
// JSON config.
func (s *Schedule) UnmarshalText(text []byte) error {
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*s = p
	return nil
}

// Off reports whether the schedule never runs.
func (s Schedule) Off() bool { return s.off }

func (s Schedule) normal() Schedule {
	if s.spec == "" {
		return MustParse(DefaultSpec)
	}
	return s
}

// Prev returns the latest scheduled run of site at or before t, or the zero
// time for a schedule that is off.
func (s Schedule) Prev(site string, t time.Time) time.Time {
	s = s.normal()
	switch {
	case s.off:
		return time.Time{}
	case s.cron != nil:
		return s.cron.prev(t)
	}
	every, offset := int64(s.every/time.Second), offsetOf(site, s.every)
	sec := t.Unix() - offset
	slot := sec - mod(sec, every)
	return time.Unix(slot+offset, 0).UTC()
}

// Next returns the first scheduled run of site after t, or the zero time
// for a schedule that is off.
func (s Schedule) Next(site string, t time.Time) time.Time {
	s = s.normal()
	switch {
	case s.off:
		return time.Time{}
	case s.cron != nil:
		return s.cron.next(t)
	}
	return s.Prev(site, t).Add(s.every)
}

// LongestGap returns the longest time between two consecutive scheduled
// runs of site in the five weeks after t (a weekly schedule: 7 days; one on
// weekdays only: 3 days, over the weekend), or 0 for a schedule that is
// off. Alerts compare the age of the last successful scan with it.
func (s Schedule) LongestGap(site string, t time.Time) time.Duration {
	s = s.normal()
	switch {
	case s.off:
		return 0
	case s.cron == nil:
		return s.every
	}
	var gap time.Duration
	prev := s.Next(site, t)
	// At most 500 runs: a cron firing every minute is regular anyway.
	for i, end := 0, t.Add(35*24*time.Hour); i < 500 && prev.Before(end); i++ {
		next := s.Next(site, prev)
		gap = max(gap, next.Sub(prev))
		prev = next
	}
	return gap
}

// offsetOf spreads sites over an interval: a stable hash of the site id,
// in whole seconds within the interval.
func offsetOf(site string, every time.Duration) int64 {
	h := fnv.New64a()
	h.Write([]byte(site))
	return int64(h.Sum64() % uint64(every/time.Second))
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// RunID names the scheduled run of site at t. Every replica derives the
// same id for the same run, which is what the queue deduplicates on.
func RunID(site string, t time.Time) string {
	return site + "@" + t.UTC().Format("20060102T150405Z")
}

// nowOf reads the clock f, or the real one when f is nil.
func nowOf(f func() time.Time) time.Time {
	if f == nil {
		return time.Now()
	}
	return f()
}

// loggerOf is l, or the default logger when l is nil.
func loggerOf(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

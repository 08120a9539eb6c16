package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// cron is a parsed five-field cron expression (minute hour day-of-month
// month day-of-week), evaluated in UTC. Each field is a bit set of the
// values it matches.
type cron struct {
	minute, hour, dom, month, dow uint64
	// domAny and dowAny record a "*" day field: as in Vixie cron, when both
	// day fields are restricted a day matches if either does.
	domAny, dowAny bool
}

type field struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
}

var fields = [5]field{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	{name: "day of week", min: 0, max: 7, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

// macros are the cron shorthands, at fixed times for every site.
var macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// parseCron parses five space-separated fields. Each field is "*", a
// value, a range "a-b", any of those with a step "/n", or a comma list of
// them; months and weekdays also take three-letter English names, and
// Sunday is 0 or 7.
func parseCron(expr string) (cron, error) {
	if m, ok := macros[expr]; ok {
		expr = m
	}
	parts := strings.Fields(expr)
	if len(parts) != 5 {
		return cron{}, fmt.Errorf("cron %q: want 5 fields (minute hour day-of-month month day-of-week), got %d", expr, len(parts))
	}
	var sets [5]uint64
	for i, p := range parts {
		s, err := parseField(p, fields[i])
		if err != nil {
			return cron{}, fmt.Errorf("cron %q: %w", expr, err)
		}
		sets[i] = s
	}
	c := cron{minute: sets[0], hour: sets[1], dom: sets[2], month: sets[3], dow: sets[4],
		domAny: strings.HasPrefix(parts[2], "*"), dowAny: strings.HasPrefix(parts[4], "*")}
	if c.dow&(1<<7) != 0 {
		c.dow |= 1 // 7 is Sunday too
	}
	return c, nil
}

func parseField(s string, f field) (uint64, error) {
	var set uint64
	for item := range strings.SplitSeq(s, ",") {
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 || n > f.max {
				return 0, fmt.Errorf("%s: bad step %q", f.name, stepText)
			}
			step = n
		}
		lo, hi := f.min, f.max
		if f.name == "day of week" && rng == "*" {
			hi = 6
		}
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = value(a, f); err != nil {
				return 0, err
			}
			hi = lo
			if isRange {
				if hi, err = value(b, f); err != nil {
					return 0, err
				}
			} else if hasStep {
				hi = f.max // "5/15" means from 5 on
			}
			if hi < lo {
				return 0, fmt.Errorf("%s: range %q runs backwards", f.name, rng)
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

func value(s string, f field) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < f.min || v > f.max {
		return 0, fmt.Errorf("%s: %q is not a value from %d to %d", f.name, s, f.min, f.max)
	}
	return v, nil
}

func has(set uint64, v int) bool { return set&(1<<v) != 0 }

func (c cron) dayMatches(t time.Time) bool {
	dom, dow := has(c.dom, t.Day()), has(c.dow, int(t.Weekday()))
	switch {
	case c.domAny || c.dowAny:
		return dom && dow
	default:
		return dom || dow
	}
}

// maxSteps bounds the search for a matching minute: enough to cross the
// eight years in which any satisfiable expression (29 February included)
// fires, month by month, day by day, hour by hour.
const maxSteps = 100000

// next returns the first matching minute after t, or the zero time if the
// expression never matches.
func (c cron) next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	for range maxSteps {
		switch {
		case !has(c.month, int(t.Month())):
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		case !c.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		case !has(c.hour, t.Hour()):
			t = t.Truncate(time.Hour).Add(time.Hour)
		case !has(c.minute, t.Minute()):
			t = t.Add(time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

// prev returns the last matching minute at or before t, or the zero time if
// the expression never matches.
func (c cron) prev(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute)
	for range maxSteps {
		switch {
		case !has(c.month, int(t.Month())):
			t = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).Add(-time.Minute)
		case !c.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Add(-time.Minute)
		case !has(c.hour, t.Hour()):
			t = t.Truncate(time.Hour).Add(-time.Minute)
		case !has(c.minute, t.Minute()):
			t = t.Add(-time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

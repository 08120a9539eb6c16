package siteconfig

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Day, Month and Year are the calendar units a Duration may be written in.
// A month is a twelfth of an average Gregorian year, so "12mo" and "1y" are
// the same length and neither falls short of a calendar year.
const (
	Day   = 24 * time.Hour
	Year  = 365*Day + 6*time.Hour // 365.25 days
	Month = Year / 12
)

// Duration is a length of time written in the site configuration as a Go
// duration ("720h", "90m") or as a whole number of days, months or years:
// "180d", "6mo", "12mo", "1y".
type Duration time.Duration

// ParseDuration parses the forms Duration accepts. It refuses zero and
// negative lengths.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"mo", Month}, {"d", Day}, {"y", Year}}
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n <= 0 || n > 100*int(Year/u.unit) {
			return 0, fmt.Errorf("duration %q: want a whole number of days (180d), months (6mo) or years (1y), or a Go duration (720h)", s)
		}
		return Duration(time.Duration(n) * u.unit), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a whole number of days (180d), months (6mo) or years (1y), or a Go duration (720h)", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("duration %q: must be positive", s)
	}
	return Duration(d), nil
}

// UnmarshalYAML reads a Duration from a YAML scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	// A *yaml.TypeError lets the decoder carry on and report the other
	// problems of the file too.
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a duration such as 6mo or 180d", n.Line)}}
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Seconds returns d in whole seconds.
func (d Duration) Seconds() int64 { return int64(time.Duration(d) / time.Second) }

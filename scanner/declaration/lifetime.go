package declaration

import (
	"fmt"
	"math"
	"time"

	"github.com/crumbhq/crumb/scanner"
)

// unit is a unit of time with its Swedish and English names, singular and
// plural.
type unit struct {
	sv, svPlural, en, enPlural string
}

var (
	years   = unit{"år", "år", "year", "years"}
	months  = unit{"månad", "månader", "month", "months"}
	days    = unit{"dag", "dagar", "day", "days"}
	hours   = unit{"timme", "timmar", "hour", "hours"}
	minutes = unit{"minut", "minuter", "minute", "minutes"}
	seconds = unit{"sekund", "sekunder", "second", "seconds"}
)

func (u unit) format(n int64, lang string) string {
	name := u.en
	switch {
	case lang == "sv" && n == 1:
		name = u.sv
	case lang == "sv":
		name = u.svPlural
	case n != 1:
		name = u.enPlural
	}
	return fmt.Sprintf("%d %s", n, name)
}

const day = 24 * time.Hour

// Lifetime says how long an item lasts, in words, in lang ("sv" or "en";
// anything else gets English): "session"/"sessionen" for a session item,
// else the duration rounded to the unit a person would use ("30 minuter",
// "24 hours", "2 dagar", "13 months", "1 år"). Chrome keeps cookies at most
// 400 days, which reads as 13 months. A duration of zero or less is
// "unknown"/"okänd".
func Lifetime(d time.Duration, session bool, lang string) string {
	switch {
	case session:
		return word(lang, "sessionen", "session")
	case d <= 0:
		return word(lang, "okänd", "unknown")
	case d < time.Minute:
		return seconds.format(roundTo(d, time.Second), lang)
	case d < time.Hour:
		return minutes.format(roundTo(d, time.Minute), lang)
	case d < 47*time.Hour:
		return hours.format(roundTo(d, time.Hour), lang)
	case d < 45*day:
		return days.format(roundTo(d, day), lang)
	}
	m := int64(math.Round(float64(d) / float64(day) / 30.4375))
	if m%12 == 0 {
		return years.format(m/12, lang)
	}
	return months.format(m, lang)
}

func roundTo(d, u time.Duration) int64 { return int64(math.Round(float64(d) / float64(u))) }

func word(lang, sv, en string) string {
	if lang == "sv" {
		return sv
	}
	return en
}

// itemLifetime says how long an item lasts, in words: web storage that the
// site keeps until it is deleted says so, a cookie its stored lifetime.
// scanned is when the scan started, used when only the expiry is known.
func itemLifetime(it scanner.Item, scanned time.Time, lang string) string {
	switch it.Kind {
	case scanner.SessionStorage:
		return Lifetime(0, true, lang)
	case scanner.LocalStorage, scanner.IndexedDB:
		return word(lang, "tills den raderas", "until deleted")
	}
	d := time.Duration(it.Lifetime)
	if d <= 0 && !it.Expires.IsZero() && !scanned.IsZero() {
		d = it.Expires.Sub(scanned)
	}
	return Lifetime(d, it.Session, lang)
}

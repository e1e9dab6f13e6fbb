package review

import (
	"fmt"
	"time"
)

// Week is an ISO 8601 week in one timezone: Monday 00:00 to the next Monday 00:00.
type Week struct {
	Year, Number int
	Start, End   time.Time // [Start, End) in the week's location
}

// String gives the week as 2026-W47.
func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Number) }

// ParseWeek reads "2026-W47" as the ISO week in loc. Across a DST change the week is 167 or 169
// hours long: it runs from local Monday midnight to local Monday midnight.
func ParseWeek(s string, loc *time.Location) (Week, error) {
	var y, n int
	if _, err := fmt.Sscanf(s, "%4d-W%2d", &y, &n); err != nil || len(s) != 8 {
		return Week{}, fmt.Errorf("week %q: want an ISO week like 2026-W47", s)
	}
	if n < 1 || n > 53 {
		return Week{}, fmt.Errorf("week %q: week number must be 1 to 53", s)
	}
	// ISO week 1 holds January 4th.
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, loc)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	start := monday.AddDate(0, 0, 7*(n-1))
	if yy, nn := start.ISOWeek(); yy != y || nn != n {
		return Week{}, fmt.Errorf("week %q: %d has no week %d", s, y, n)
	}
	return Week{Year: y, Number: n, Start: start, End: start.AddDate(0, 0, 7)}, nil
}

// WeekOf returns the ISO week that contains t, in loc.
func WeekOf(t time.Time, loc *time.Location) Week {
	t = t.In(loc)
	y, n := t.ISOWeek()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	start := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	return Week{Year: y, Number: n, Start: start, End: start.AddDate(0, 0, 7)}
}

// Previous returns the week before w.
func (w Week) Previous() Week { return WeekOf(w.Start.AddDate(0, 0, -1), w.Start.Location()) }

// Next returns the week after w.
func (w Week) Next() Week { return WeekOf(w.End, w.Start.Location()) }

// LastFullWeek is the most recent week that has ended at now: the default agenda of a Monday meeting.
func LastFullWeek(now time.Time, loc *time.Location) Week { return WeekOf(now, loc).Previous() }

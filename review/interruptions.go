package review

import (
	"sort"
	"time"
)

// RepeatOffenderPages is how many pages in a week make a rule a repeat offender.
const RepeatOffenderPages = 3

// Offender is a rule that paged RepeatOffenderPages times or more in the week.
type Offender struct {
	Alertname string `json:"alertname"`
	Pages     int    `json:"pages"`
}

// RepeatOffenders returns the rules with at least min pages, most pages first, then by name.
func RepeatOffenders(pagesPerRule map[string]int, min int) []Offender {
	out := []Offender{}
	for name, n := range pagesPerRule {
		if n >= min {
			out = append(out, Offender{name, n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pages != out[j].Pages {
			return out[i].Pages > out[j].Pages
		}
		return out[i].Alertname < out[j].Alertname
	})
	return out
}

// InterruptedHours counts the distinct clock hours, in loc, in which at least one page landed. An
// hour is a local hour: on the night clocks go back, 02:00–03:00 happens twice and counts twice.
func InterruptedHours(times []time.Time, loc *time.Location) int {
	seen := map[int64]bool{}
	for _, t := range times {
		l := t.In(loc)
		// The hour's start as an instant tells the repeated hour of a DST change apart.
		start := l.Add(-time.Duration(l.Minute())*time.Minute - time.Duration(l.Second())*time.Second - time.Duration(l.Nanosecond()))
		seen[start.Unix()] = true
	}
	return len(seen)
}

// ToilMinutes is the interrupt time pages cost: each is worth minutesPerPage.
func ToilMinutes(pages, minutesPerPage int) int { return pages * minutesPerPage }

// FiresByHourOfWeek counts times by local hour of the week in loc: [0] is Monday, [6] Sunday; [d][h] the
// hour starting at h:00.
func FiresByHourOfWeek(times []time.Time, loc *time.Location) [7][24]int {
	var out [7][24]int
	for _, t := range times {
		l := t.In(loc)
		d := (int(l.Weekday()) + 6) % 7
		out[d][l.Hour()]++
	}
	return out
}

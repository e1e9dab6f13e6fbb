package config

import (
	"slices"
	"time"
	_ "time/tzdata" // team time zones must load in minimal containers that ship no zoneinfo
)

// Hours classes: when a page lands, in the owning team's timezone.
const (
	HoursBusiness = "business"
	HoursEvening  = "evening"
	HoursSleep    = "sleep"
)

// Unassigned is the team of alerts that no team's match labels select.
const Unassigned = "unassigned"

var weekdayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// HoursClass says whether at falls in the team's business, evening or sleep hours, in the
// team's timezone. Sleep hours hold every day and win where they overlap business hours;
// business hours hold on the listed days; everything else, weekends included, is evening.
// Ranges include their start and exclude their end: with sleep from 22:00, 22:00 is sleep.
func (t *Team) HoursClass(at time.Time) string {
	local := at.In(t.location())
	m := local.Hour()*60 + local.Minute()
	if inClockRange(m, t.SleepHours.Start, t.SleepHours.End) {
		return HoursSleep
	}
	if t.businessDay(local.Weekday()) && inClockRange(m, t.BusinessHours.Start, t.BusinessHours.End) {
		return HoursBusiness
	}
	return HoursEvening
}

// HoursTeam returns the named team, or for alerts with no (known) team a team named
// "unassigned" in UTC with the default hours, so every page can be classified.
func (c *Config) HoursTeam(name string) *Team {
	if t := c.TeamByName(name); t != nil {
		return t
	}
	return defaultTeam()
}

// HoursTeams is HoursTeam remembered by name, for one pass over many pages: HoursTeam searches the
// team list, and builds the unassigned team, every time. Not for concurrent use.
func (c *Config) HoursTeams() func(name string) *Team {
	seen := map[string]*Team{}
	return func(name string) *Team {
		t, ok := seen[name]
		if !ok {
			t = c.HoursTeam(name)
			seen[name] = t
		}
		return t
	}
}

// defaultTeam is the team of unassigned alerts: UTC and every default.
func defaultTeam() *Team {
	t := &Team{Name: Unassigned}
	t.applyDefaults()
	t.Location = time.UTC
	return t
}

// location is the team's time zone; Validate fills Location, this covers a Team built by hand.
func (t *Team) location() *time.Location {
	if t.Location != nil {
		return t.Location
	}
	if loc, err := time.LoadLocation(t.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

func (t *Team) businessDay(d time.Weekday) bool {
	for _, name := range t.BusinessHours.Days {
		if name == weekdayNames[d] {
			return true
		}
	}
	return false
}

// inClockRange reports whether minute-of-day m is in [start, end). A range whose end comes
// before its start wraps past midnight; equal ends make an empty range.
func inClockRange(m int, start, end string) bool {
	s, ok1 := parseClock(start)
	e, ok2 := parseClock(end)
	switch {
	case !ok1 || !ok2 || s == e:
		return false
	case s < e:
		return s <= m && m < e
	default:
		return m >= s || m < e
	}
}

// parseClock turns "08:00" into minutes after midnight; "24:00" is the end of the day. It accepts
// what clockRe accepts, without the regexp: pages classify every page they count with it.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// HoursSpan is a stretch of time in one hours class, from Start until the next span's start.
type HoursSpan struct {
	Start time.Time
	Class string
}

// HoursSpans cuts [from, to) into the team's hours classes, oldest first: the first span starts at
// from, each lasts until the next one's start (the last until to), and neighbours differ in class.
// HoursClass(at) is the class of the span that holds at; the store counts a long window's pages by
// class with these spans instead of classifying every page in Go.
//
// The class can only change where the local clock reads a range's end or midnight (the weekday),
// or where the zone's offset changes. Within each stretch of one offset those instants are plain
// arithmetic, twice a night when the clocks go back included; each piece between them takes
// HoursClass of its start, so the two can never disagree on which class a minute is in.
func (t *Team) HoursSpans(from, to time.Time) []HoursSpan {
	if !from.Before(to) {
		return nil
	}
	loc := t.location()
	var clocks []int
	for _, c := range []string{"00:00", t.SleepHours.Start, t.SleepHours.End, t.BusinessHours.Start, t.BusinessHours.End} {
		if m, ok := parseClock(c); ok {
			clocks = append(clocks, m)
		}
	}
	cuts := []time.Time{from}
	for at := from; at.Before(to); {
		local := at.In(loc)
		name, offset := local.Zone()
		end := to
		if _, zoneEnd := local.ZoneBounds(); !zoneEnd.IsZero() && zoneEnd.Before(to) {
			end = zoneEnd
			cuts = append(cuts, zoneEnd)
		}
		fixed := time.FixedZone(name, offset)
		y, m, d := at.In(fixed).Date()
		for day := time.Date(y, m, d, 0, 0, 0, 0, fixed); day.Before(end); day = day.AddDate(0, 0, 1) {
			for _, c := range clocks {
				if cut := day.Add(time.Duration(c) * time.Minute); cut.After(at) && cut.Before(end) {
					cuts = append(cuts, cut)
				}
			}
		}
		at = end
	}
	slices.SortFunc(cuts, func(a, b time.Time) int { return a.Compare(b) })
	var out []HoursSpan
	for _, c := range cuts {
		if n := len(out); n > 0 && !c.After(out[n-1].Start) {
			continue
		}
		class := t.HoursClass(c)
		if n := len(out); n > 0 && out[n-1].Class == class {
			continue
		}
		out = append(out, HoursSpan{Start: c, Class: class})
	}
	return out
}

package config

import (
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

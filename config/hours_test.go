package config

import (
	"testing"
	"time"
)

func TestHoursClass(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	c := &Config{Teams: []Team{
		{Name: "berlin", Timezone: "Europe/Berlin"},
		{Name: "late", Timezone: "UTC", SleepHours: HourRange{Start: "23:30", End: "06:00"}},
		{Name: "overlap", Timezone: "UTC", BusinessHours: BusinessHours{Start: "07:00", End: "23:00"}},
		{Name: "weekend", Timezone: "UTC", BusinessHours: BusinessHours{Days: []string{"sat", "sun"}}},
		{Name: "awake", Timezone: "UTC", SleepHours: HourRange{Start: "00:00", End: "00:00"}},
		{Name: "midnight", Timezone: "UTC", SleepHours: HourRange{Start: "24:00", End: "06:00"}},
	}}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		at, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	local := func(s string) time.Time {
		at, err := time.ParseInLocation("2006-01-02T15:04:05", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	for _, tc := range []struct {
		name, team string
		at         time.Time
		want       string
	}{
		// 2026-03-27 is a Friday; Berlin moves from CET (+1) to CEST (+2) on Sunday 2026-03-29.
		{"winter: 07:30 UTC is 08:30 CET", "berlin", utc("2026-03-27T07:30:00Z"), HoursBusiness},
		{"winter: 06:30 UTC is 07:30 CET", "berlin", utc("2026-03-27T06:30:00Z"), HoursSleep},
		{"summer: 06:30 UTC is 08:30 CEST", "berlin", utc("2026-03-30T06:30:00Z"), HoursBusiness},
		{"summer: 05:59 UTC is 07:59 CEST", "berlin", utc("2026-03-30T05:59:00Z"), HoursSleep},
		{"summer: 16:30 UTC is 18:30 CEST", "berlin", utc("2026-03-30T16:30:00Z"), HoursEvening},
		{"winter: 16:30 UTC is 17:30 CET", "berlin", utc("2026-03-27T16:30:00Z"), HoursBusiness},
		{"the night of the switch", "berlin", utc("2026-03-29T01:30:00Z"), HoursSleep},
		{"back to winter: 07:30 UTC is 08:30 CET", "berlin", utc("2026-10-26T07:30:00Z"), HoursBusiness},
		{"last summer morning: 06:30 UTC is 08:30 CEST", "berlin", utc("2026-10-23T06:30:00Z"), HoursBusiness},

		{"21:59 is evening", "berlin", local("2026-03-25T21:59:59"), HoursEvening},
		{"22:00 is sleep", "berlin", local("2026-03-25T22:00:00"), HoursSleep},
		{"midnight is sleep", "berlin", local("2026-03-26T00:00:00"), HoursSleep},
		{"07:59 is sleep", "berlin", local("2026-03-26T07:59:00"), HoursSleep},
		{"08:00 is business", "berlin", local("2026-03-26T08:00:00"), HoursBusiness},
		{"17:59 is business", "berlin", local("2026-03-26T17:59:00"), HoursBusiness},
		{"18:00 is evening", "berlin", local("2026-03-26T18:00:00"), HoursEvening},
		{"Saturday noon is evening", "berlin", local("2026-03-28T12:00:00"), HoursEvening},
		{"Sunday 09:00 is evening", "berlin", local("2026-03-29T09:00:00"), HoursEvening},
		{"Saturday 23:00 is sleep", "berlin", local("2026-03-28T23:00:00"), HoursSleep},
		{"Monday 03:00 is sleep", "berlin", local("2026-03-30T03:00:00"), HoursSleep},

		{"wrap: 23:29 evening", "late", utc("2026-03-25T23:29:00Z"), HoursEvening},
		{"wrap: 23:30 sleep", "late", utc("2026-03-25T23:30:00Z"), HoursSleep},
		{"wrap: 05:59 sleep", "late", utc("2026-03-26T05:59:00Z"), HoursSleep},
		{"wrap: 06:00 evening", "late", utc("2026-03-26T06:00:00Z"), HoursEvening},
		{"sleep wins over business", "overlap", utc("2026-03-25T22:30:00Z"), HoursSleep},
		{"business before the overlap", "overlap", utc("2026-03-25T21:30:00Z"), HoursBusiness},
		{"weekend business days", "weekend", utc("2026-03-28T10:00:00Z"), HoursBusiness},
		{"weekday off", "weekend", utc("2026-03-25T10:00:00Z"), HoursEvening},
		{"no sleep hours", "awake", utc("2026-03-25T03:00:00Z"), HoursEvening},
		{"sleep from 24:00", "midnight", utc("2026-03-25T00:00:00Z"), HoursSleep},
		{"sleep from 24:00 not before", "midnight", utc("2026-03-25T23:59:00Z"), HoursEvening},

		{"unassigned: UTC, default hours", "", utc("2026-03-27T08:30:00Z"), HoursBusiness},
		{"unknown team: UTC, default hours", "ghosts", utc("2026-03-27T07:30:00Z"), HoursSleep},
	} {
		if got := c.HoursTeam(tc.team).HoursClass(tc.at); got != tc.want {
			t.Errorf("%s: %s HoursClass(%s) = %s, want %s", tc.name, tc.team, tc.at.Format(time.RFC3339), got, tc.want)
		}
	}
}

func TestHoursTeam(t *testing.T) {
	c := &Config{Teams: []Team{{Name: "payments", Timezone: "Europe/Berlin"}}}
	if got := c.HoursTeam("payments"); got != &c.Teams[0] {
		t.Errorf("HoursTeam(payments) = %p, want the configured team", got)
	}
	d := c.HoursTeam("")
	if d.Name != Unassigned || d.Location != time.UTC || d.BusinessHours.Start != "08:00" || d.SleepHours.Start != "22:00" {
		t.Errorf("HoursTeam(\"\") = %+v, want unassigned in UTC with default hours", d)
	}
	d.BusinessHours.Days[0] = "sun"
	if c.HoursTeam("").BusinessHours.Days[0] != "mon" {
		t.Error("the default team must be fresh on every call")
	}
}

func TestHoursClassWithoutValidate(t *testing.T) {
	team := &Team{Name: "x", Timezone: "Asia/Tokyo"}
	team.applyDefaults()
	at := time.Date(2026, 3, 25, 0, 30, 0, 0, time.UTC) // 09:30 in Tokyo, a Wednesday
	if got := team.HoursClass(at); got != HoursBusiness {
		t.Errorf("HoursClass = %s, want business: the time zone must load without Validate", got)
	}
}

// HoursSpans must agree with HoursClass on every minute, across the nights the clocks change
// (Berlin and New York by an hour, Lord Howe by half an hour), in zones off the hour, and with
// ranges that wrap midnight, are empty, end at 24:00 or sit in the hour a clock change skips or
// repeats.
func TestHoursSpansAgreeWithHoursClass(t *testing.T) {
	teams := []Team{
		{Name: "berlin", Timezone: "Europe/Berlin"},
		{Name: "skipped", Timezone: "Europe/Berlin", SleepHours: HourRange{Start: "02:30", End: "07:00"},
			BusinessHours: BusinessHours{Days: []string{"sun", "mon", "fri"}, Start: "02:15", End: "19:45"}},
		{Name: "repeated", Timezone: "America/New_York", SleepHours: HourRange{Start: "22:00", End: "01:30"}},
		{Name: "lordhowe", Timezone: "Australia/Lord_Howe", SleepHours: HourRange{Start: "01:45", End: "02:15"}},
		{Name: "kolkata", Timezone: "Asia/Kolkata", BusinessHours: BusinessHours{Start: "09:30", End: "24:00"}},
		{Name: "awake", Timezone: "UTC", SleepHours: HourRange{Start: "00:00", End: "00:00"}},
		{Name: "weekend", Timezone: "America/St_Johns", BusinessHours: BusinessHours{Days: []string{"sat", "sun"}}},
	}
	c := &Config{Teams: teams}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	windows := [][2]string{
		{"2026-03-26T13:07:00Z", "2026-04-07T00:00:00Z"}, // Berlin, Lord Howe (April) and the weeks around
		{"2026-10-22T00:00:00Z", "2026-11-05T09:30:00Z"}, // Berlin and New York fall back
		{"2026-03-06T00:00:00Z", "2026-03-10T00:00:00Z"}, // New York springs forward
		{"2026-10-02T00:00:00Z", "2026-10-06T00:00:00Z"}, // Lord Howe springs forward half an hour
	}
	for i := range c.Teams {
		team := &c.Teams[i]
		for _, w := range windows {
			from, _ := time.Parse(time.RFC3339, w[0])
			to, _ := time.Parse(time.RFC3339, w[1])
			spans := team.HoursSpans(from, to)
			if len(spans) == 0 || !spans[0].Start.Equal(from) {
				t.Fatalf("%s %v: spans %v do not start at the window's start", team.Name, w, spans)
			}
			changes := 0
			k := 0
			for at := from; at.Before(to); at = at.Add(time.Minute) {
				for k+1 < len(spans) && !at.Before(spans[k+1].Start) {
					k++
					changes++
				}
				if got, want := spans[k].Class, team.HoursClass(at); got != want {
					t.Fatalf("%s: at %s the spans say %s, HoursClass says %s", team.Name, at, got, want)
				}
			}
			for k := 1; k < len(spans); k++ {
				if spans[k].Class == spans[k-1].Class || !spans[k].Start.After(spans[k-1].Start) {
					t.Fatalf("%s: spans %d and %d are out of order or of one class: %v, %v", team.Name, k-1, k, spans[k-1], spans[k])
				}
			}
			if team.Name != "awake" && changes < 4 {
				t.Errorf("%s %v: only %d class changes: the window proves little", team.Name, w, changes)
			}
		}
	}
}

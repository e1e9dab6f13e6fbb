package review

import (
	"testing"
	"time"
)

func TestSummarizeToil(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		x, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	pages := []ToilPage{
		{NotificationID: 1, At: at("2026-11-16 03:10"), Rules: []string{"DiskFull"}, Hours: HoursSleep, Minutes: 15},
		{NotificationID: 2, At: at("2026-11-16 03:50"), Rules: []string{"DiskFull", "HighLatency"}, Hours: HoursSleep, Minutes: 15},
		// The same notification listed twice (once per rule) is still one page.
		{NotificationID: 2, At: at("2026-11-16 03:50"), Rules: []string{"HighLatency"}, Hours: HoursSleep, Minutes: 15},
		{NotificationID: 3, At: at("2026-11-17 10:00"), Rules: []string{"DiskFull"}, Hours: HoursBusiness, Minutes: 15},
		{NotificationID: 4, At: at("2026-11-21 12:00"), Rules: []string{"HighLatency"}, Hours: HoursEvening, Minutes: 15},
	}
	entries := []ToilEntry{{Minutes: 90}, {Minutes: 30}}
	s := SummarizeToil(pages, entries, 20*time.Hour, berlin)
	if s.Pages != 4 {
		t.Errorf("Pages = %d, want 4 distinct notifications", s.Pages)
	}
	if s.PagesByHours != (PagesByHours{Business: 1, Evening: 1, Sleep: 2}) {
		t.Errorf("PagesByHours = %v", s.PagesByHours)
	}
	if s.InterruptedHours != 3 {
		t.Errorf("InterruptedHours = %d, want 3 (03:xx Monday once, Tuesday 10, Saturday 12)", s.InterruptedHours)
	}
	if len(s.RepeatOffenders) != 2 || s.RepeatOffenders[0] != (Offender{"DiskFull", 3}) || s.RepeatOffenders[1] != (Offender{"HighLatency", 3}) {
		t.Errorf("RepeatOffenders = %v, want DiskFull and HighLatency with 3 each", s.RepeatOffenders)
	}
	if s.PageMinutes != 60 || s.ManualMinutes != 120 || s.TotalHours != 3 {
		t.Errorf("minutes: pages %d manual %d total %vh, want 60, 120, 3h", s.PageMinutes, s.ManualMinutes, s.TotalHours)
	}
	if s.BudgetHours != 20 || s.BudgetShare != 0.15 || s.OverBudget {
		t.Errorf("budget %v share %v over %v", s.BudgetHours, s.BudgetShare, s.OverBudget)
	}
}

func TestSummarizeToilEmpty(t *testing.T) {
	s := SummarizeToil(nil, nil, 20*time.Hour, nil)
	if s.Pages != 0 || s.TotalHours != 0 || s.RepeatOffenders == nil || s.PagesByHours != (PagesByHours{}) {
		t.Errorf("empty summary = %+v", s)
	}
}

func TestSummarizeToilOverBudget(t *testing.T) {
	s := SummarizeToil(nil, []ToilEntry{{Minutes: 1440}}, 20*time.Hour, time.UTC)
	if !s.OverBudget || s.TotalHours != 24 || s.BudgetShare != 1.2 {
		t.Errorf("summary = %+v, want 24h over a 20h budget", s)
	}
}

// In the week of the end of summer time (Europe/Berlin, Sunday 2026-10-25 03:00 CEST becomes
// 02:00 CET) the clock shows 02:00–03:00 twice: pages in each are two interrupted hours.
func TestInterruptedHoursAcrossDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	week, err := ParseWeek("2026-W43", berlin)
	if err != nil {
		t.Fatal(err)
	}
	if h := week.End.Sub(week.Start); h != 169*time.Hour {
		t.Fatalf("DST week is %v long, want 169h", h)
	}
	first := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)  // 02:30 CEST
	second := time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC) // 02:30 CET
	sameHour := time.Date(2026, 10, 25, 1, 59, 0, 0, time.UTC)
	pages := []ToilPage{
		{NotificationID: 1, At: first, Rules: []string{"A"}, Hours: HoursSleep},
		{NotificationID: 2, At: second, Rules: []string{"A"}, Hours: HoursSleep},
		{NotificationID: 3, At: sameHour, Rules: []string{"A"}, Hours: HoursSleep},
	}
	s := SummarizeToil(pages, nil, 0, berlin)
	if s.InterruptedHours != 2 {
		t.Errorf("InterruptedHours = %d, want 2: the two 02:00 hours are different hours", s.InterruptedHours)
	}
	if s.BudgetShare != 0 || s.OverBudget {
		t.Errorf("zero budget: share %v over %v", s.BudgetShare, s.OverBudget)
	}
	// Spring forward (2026-03-29 02:00 CET becomes 03:00 CEST): 01:59 CET and 03:00 CEST are a minute
	// apart and in two clock hours.
	a := time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC)
	b := time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)
	if HourStart(a, berlin).Equal(HourStart(b, berlin)) {
		t.Error("01:59 CET and 03:00 CEST fell in one hour")
	}
	if got := HourStart(b, berlin); got.Hour() != 3 || got.Minute() != 0 {
		t.Errorf("HourStart(03:00 CEST) = %v", got)
	}
}

func TestHourStartHalfHourZone(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 17, 10, 45, 0, 0, kolkata)
	got := HourStart(at, kolkata)
	if want := time.Date(2026, 11, 17, 10, 0, 0, 0, kolkata); !got.Equal(want) {
		t.Errorf("HourStart = %v, want %v", got, want)
	}
}

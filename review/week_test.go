package review

import (
	"testing"
	"time"
)

func TestParseWeek(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, tc := range []struct {
		in        string
		loc       *time.Location
		start     string
		hours     float64
		wantError bool
	}{
		{"2026-W47", time.UTC, "2026-11-16T00:00:00Z", 168, false},
		{"2026-W01", time.UTC, "2025-12-29T00:00:00Z", 168, false},
		{"2026-W53", time.UTC, "2026-12-28T00:00:00Z", 168, false},
		{"2027-W53", time.UTC, "", 0, true},
		{"2026-W13", berlin, "2026-03-23T00:00:00+01:00", 167, false}, // clocks go forward on the 29th
		{"2026-W44", berlin, "2026-10-26T00:00:00+01:00", 168, false},
		{"2026-W43", berlin, "2026-10-19T00:00:00+02:00", 169, false}, // clocks go back on the 25th
		{"2026-47", time.UTC, "", 0, true},
		{"2026-W00", time.UTC, "", 0, true},
	} {
		w, err := ParseWeek(tc.in, tc.loc)
		if tc.wantError {
			if err == nil {
				t.Errorf("%s: want an error", tc.in)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if got := w.Start.Format(time.RFC3339); got != tc.start || w.End.Sub(w.Start).Hours() != tc.hours || w.String() != tc.in {
			t.Errorf("%s: got %s, %v hours, %s", tc.in, got, w.End.Sub(w.Start).Hours(), w)
		}
	}
	if w := LastFullWeek(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), time.UTC); w.String() != "2026-W47" {
		t.Errorf("last full week on 2026-11-25 is W47, got %s", w)
	}
	if w := WeekOf(time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC), berlin); w.String() != "2026-W48" {
		t.Errorf("Sunday 23:30 UTC is Monday in Berlin (W48), got %s", w)
	}
}

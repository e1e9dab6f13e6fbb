package review

import (
	"reflect"
	"testing"
	"time"
)

func TestRepeatOffenders(t *testing.T) {
	got := RepeatOffenders(map[string]int{"A": 3, "B": 2, "C": 7, "D": 3}, RepeatOffenderPages)
	want := []Offender{{"C", 7}, {"A", 3}, {"D", 3}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := RepeatOffenders(nil, 3); got == nil || len(got) != 0 {
		t.Errorf("empty: %#v", got)
	}
}

func TestInterruptedHours(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	for _, tc := range []struct {
		name  string
		loc   *time.Location
		times []string
		want  int
	}{
		{"same hour twice", time.UTC, []string{"2026-11-16T10:05:00Z", "2026-11-16T10:55:00Z"}, 1},
		{"two hours", time.UTC, []string{"2026-11-16T10:55:00Z", "2026-11-16T11:05:00Z"}, 2},
		// 02:30 CEST and 02:30 CET on 25 Oct are the repeated local hour: two interruptions.
		{"berlin repeated hour", berlin, []string{"2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"}, 2},
		// Half-hour offset: 10:20 and 10:40 UTC are 15:50 and 16:10 in Kolkata, two local hours.
		{"half-hour zone", kolkata, []string{"2026-11-16T10:20:00Z", "2026-11-16T10:40:00Z"}, 2},
		{"half-hour zone, same UTC hour split differently", time.UTC, []string{"2026-11-16T10:20:00Z", "2026-11-16T10:40:00Z"}, 1},
		{"none", time.UTC, nil, 0},
	} {
		var ts []time.Time
		for _, s := range tc.times {
			ts = append(ts, rfc(s))
		}
		if got := InterruptedHours(ts, tc.loc); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestToilMinutes(t *testing.T) {
	if got := ToilMinutes(7, 15); got != 105 {
		t.Errorf("7 pages × 15 min = %d", got)
	}
}

func TestFiresByHourOfWeek(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// Monday 16 Nov 23:30 UTC is Tuesday 00:30 in Berlin; Sunday 22 Nov 12:00 UTC is Sunday 13:00.
	h := FiresByHourOfWeek([]time.Time{rfc("2026-11-16T23:30:00Z"), rfc("2026-11-22T12:00:00Z"), rfc("2026-11-22T12:10:00Z")}, berlin)
	if h[1][0] != 1 || h[6][13] != 2 {
		t.Errorf("Tue 00h = %d, Sun 13h = %d", h[1][0], h[6][13])
	}
}

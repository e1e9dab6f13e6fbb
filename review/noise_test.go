package review

import (
	"testing"
	"time"
)

func rfc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ep(fp uint64, name, start, end string) Episode {
	e := Episode{Fingerprint: fp, Alertname: name, StartsAt: rfc(start)}
	if end != "" {
		t := rfc(end)
		e.EndsAt = &t
	}
	return e
}

func TestIsFlap(t *testing.T) {
	th, rf := 5*time.Minute, 30*time.Minute
	prev := rfc("2026-11-16T10:00:00Z")
	for _, tc := range []struct {
		name    string
		e       Episode
		prevEnd *time.Time
		want    bool
	}{
		{"short", ep(1, "A", "2026-11-16T11:00:00Z", "2026-11-16T11:04:59Z"), nil, true},
		{"exactly the threshold is not short", ep(1, "A", "2026-11-16T11:00:00Z", "2026-11-16T11:05:00Z"), nil, false},
		{"open is never short", ep(1, "A", "2026-11-16T11:00:00Z", ""), nil, false},
		{"refire within the window", ep(1, "A", "2026-11-16T10:30:00Z", "2026-11-16T12:00:00Z"), &prev, true},
		{"refire after the window", ep(1, "A", "2026-11-16T10:30:01Z", "2026-11-16T12:00:00Z"), &prev, false},
		{"long, no previous", ep(1, "A", "2026-11-16T10:10:00Z", "2026-11-16T12:00:00Z"), nil, false},
	} {
		if got := IsFlap(tc.e, tc.prevEnd, th, rf); got != tc.want {
			t.Errorf("%s: IsFlap = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCountFlapsLooksBackAcrossTheWindowStart(t *testing.T) {
	from, to := rfc("2026-11-16T00:00:00Z"), rfc("2026-11-23T00:00:00Z")
	eps := []Episode{
		ep(1, "A", "2026-11-15T23:00:00Z", "2026-11-15T23:50:00Z"), // before the window, not counted
		ep(1, "A", "2026-11-16T00:10:00Z", "2026-11-16T02:00:00Z"), // refires 20 min after: flap
		ep(2, "A", "2026-11-17T00:10:00Z", "2026-11-17T00:11:00Z"), // short: flap
		ep(3, "B", "2026-11-17T00:10:00Z", "2026-11-17T03:00:00Z"), // long: not a flap
		ep(3, "B", "2026-11-17T04:00:00Z", "2026-11-17T05:00:00Z"), // an hour later: not a flap
		ep(4, "B", "2026-11-23T00:00:00Z", "2026-11-23T00:01:00Z"), // after the window
	}
	got := CountFlaps(eps, from, to, 5*time.Minute, 30*time.Minute)
	if got["A"] != 2 || got["B"] != 0 || len(got) != 1 {
		t.Errorf("flaps = %v, want A:2", got)
	}
}

func TestFiringOverlap(t *testing.T) {
	from, to, now := rfc("2026-11-16T00:00:00Z"), rfc("2026-11-23T00:00:00Z"), rfc("2026-11-25T00:00:00Z")
	for _, tc := range []struct {
		e    Episode
		want time.Duration
	}{
		{ep(1, "A", "2026-11-15T23:00:00Z", "2026-11-16T01:00:00Z"), time.Hour},
		{ep(1, "A", "2026-11-22T23:00:00Z", ""), time.Hour},
		{ep(1, "A", "2026-11-17T00:00:00Z", "2026-11-17T00:30:00Z"), 30 * time.Minute},
		{ep(1, "A", "2026-11-10T00:00:00Z", "2026-11-11T00:30:00Z"), 0},
	} {
		if got := FiringOverlap(tc.e, from, to, now); got != tc.want {
			t.Errorf("%v: overlap %v, want %v", tc.e.StartsAt, got, tc.want)
		}
	}
	// An open episode inside the window counts until now.
	if got := FiringOverlap(ep(1, "A", "2026-11-22T00:00:00Z", ""), from, to, rfc("2026-11-22T02:00:00Z")); got != 2*time.Hour {
		t.Errorf("open episode: %v", got)
	}
}

// classifier is a team's hours in loc: Mon–Fri 08–18 business, 22–08 sleep, the rest evening.
func classifier(loc *time.Location) func(time.Time) string {
	return func(t time.Time) string {
		l := t.In(loc)
		h := l.Hour()
		switch {
		case h >= 22 || h < 8:
			return HoursSleep
		case l.Weekday() != time.Saturday && l.Weekday() != time.Sunday && h < 18:
			return HoursBusiness
		}
		return HoursEvening
	}
}

func TestClassifyPagesAcrossDSTAndTimezones(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	for _, tc := range []struct {
		name  string
		loc   *time.Location
		times []string
		want  PagesByHours
	}{
		// 07:30 UTC is 08:30 in Berlin in winter (business) but 09:30 in summer; on Friday 23 Oct
		// (summer) 06:30 UTC is 08:30 business, on Monday 26 Oct (winter, after the change) 06:30 UTC
		// is 07:30: sleep.
		{"berlin DST week", berlin, []string{"2026-10-23T06:30:00Z", "2026-10-26T06:30:00Z"}, PagesByHours{Business: 1, Sleep: 1}},
		{"berlin evening", berlin, []string{"2026-11-16T17:30:00Z", "2026-11-21T10:00:00Z"}, PagesByHours{Evening: 2}},
		// The same instants for a team in New York: 13:30 Monday is business, Saturday 05:00 is sleep.
		{"new york", ny, []string{"2026-11-16T18:30:00Z", "2026-11-21T10:00:00Z"}, PagesByHours{Business: 1, Sleep: 1}},
		{"utc", time.UTC, []string{"2026-11-16T17:30:00Z", "2026-11-16T22:00:00Z", "2026-11-16T08:00:00Z"}, PagesByHours{Business: 2, Sleep: 1}},
	} {
		var ts []time.Time
		for _, s := range tc.times {
			ts = append(ts, rfc(s))
		}
		if got := ClassifyPages(ts, classifier(tc.loc)); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestNoiseScore(t *testing.T) {
	sum := func(n Noise) float64 {
		s := 0.0
		for _, v := range n.Parts {
			s += v
		}
		return s
	}
	base := NoiseInput{Fires: 4, Flaps: 2, Pages: PagesByHours{Business: 1, Evening: 1, Sleep: 1}}
	b := NoiseScore(base)
	if b.Score != 4+4+3+6+12 || sum(b) != b.Score || len(b.Parts) != 6 {
		t.Fatalf("base score %v parts %v", b.Score, b.Parts)
	}
	more := func(edit func(*NoiseInput)) float64 {
		in := base
		edit(&in)
		n := NoiseScore(in)
		if sum(n) != n.Score {
			t.Errorf("parts %v do not sum to %v", n.Parts, n.Score)
		}
		return n.Score
	}
	for _, tc := range []struct {
		name string
		edit func(*NoiseInput)
		rise bool
	}{
		{"fires", func(in *NoiseInput) { in.Fires++ }, true},
		{"flaps", func(in *NoiseInput) { in.Flaps++ }, true},
		{"evening page", func(in *NoiseInput) { in.Pages.Evening++ }, true},
		{"sleep page", func(in *NoiseInput) { in.Pages.Sleep++ }, true},
		{"noise verdict", func(in *NoiseInput) { in.Verdict = VerdictNoise }, true},
		{"needs-tuning verdict", func(in *NoiseInput) { in.Verdict = VerdictNeedsTuning }, true},
		{"actionable verdict", func(in *NoiseInput) { in.Verdict = VerdictActionable }, false},
	} {
		got := more(tc.edit)
		if tc.rise && got <= b.Score || !tc.rise && got >= b.Score {
			t.Errorf("%s: score %v from %v, want it to %s", tc.name, got, b.Score, map[bool]string{true: "rise", false: "fall"}[tc.rise])
		}
	}
	if sleep, evening := more(func(in *NoiseInput) { in.Pages.Sleep++ }), more(func(in *NoiseInput) { in.Pages.Evening++ }); sleep <= evening {
		t.Errorf("a sleep page (%v) must weigh more than an evening page (%v)", sleep, evening)
	}
	if z := NoiseScore(NoiseInput{}); z.Score != 0 || len(z.Parts) != 6 {
		t.Errorf("zero input: %+v", z)
	}
}

func TestFiresTrend(t *testing.T) {
	for _, tc := range []struct {
		cur  int
		prev []int
		want string
		mean float64
	}{
		{5, []int{0, 0, 0, 0}, "new", 0},
		{0, []int{0, 0, 0, 0}, "flat", 0},
		{10, []int{4, 4, 4, 4}, "up", 4},
		{1, []int{4, 4, 4, 4}, "down", 4},
		{4, []int{3, 5, 4, 4}, "flat", 4},
		{4, nil, "new", 0},
	} {
		got := FiresTrend(tc.cur, tc.prev)
		if got.Direction != tc.want || got.Mean != tc.mean {
			t.Errorf("%d vs %v: %+v, want %s mean %v", tc.cur, tc.prev, got, tc.want, tc.mean)
		}
	}
}

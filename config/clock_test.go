package config

import (
	"fmt"
	"testing"
)

// TestParseClockAcceptsWhatValidationAccepts: the hand-written parser accepts exactly the clocks
// clockRe (what Validate checks) accepts, over every two-digit hour and minute and a few others.
func TestParseClockAcceptsWhatValidationAccepts(t *testing.T) {
	var in []string
	for h := 0; h < 100; h++ {
		for m := 0; m < 100; m++ {
			in = append(in, fmt.Sprintf("%02d:%02d", h, m))
		}
	}
	in = append(in, "", "8:00", "08:0", "08-00", "0800", "08:00 ", " 08:00", "ab:cd", "24:01", "2a:00", "08:6x", "-1:00")
	for _, s := range in {
		got, ok := parseClock(s)
		if want := clockRe.MatchString(s); ok != want {
			t.Errorf("parseClock(%q) ok = %v, clockRe says %v", s, ok, want)
		}
		if ok {
			var h, m int
			fmt.Sscanf(s, "%d:%d", &h, &m)
			if got != h*60+m {
				t.Errorf("parseClock(%q) = %d, want %d", s, got, h*60+m)
			}
		}
	}
}

package review

import "time"

// Meets reports whether v meets objective for an SLI of direction dir.
func Meets(v, objective float64, dir Direction) bool {
	if dir == HigherIsBetter {
		return v >= objective
	}
	return v <= objective
}

// ObjectiveStats is how an SLI with an objective is doing.
type ObjectiveStats struct {
	Objective float64
	WeekMet   *float64 // share of this week's samples that met the objective
	// BudgetLeft is the share of the 28-day error budget left (negative when overspent) and
	// BurnRate how fast the last hour spends it (1 spends exactly the budget over 28 days). Both
	// are set only for ratio SLIs, whose objective is itself the allowed error ratio
	// (lower-is-better) or the availability to keep (higher-is-better).
	BudgetLeft *float64
	BurnRate   *float64
}

// Objective computes ObjectiveStats from samples in ascending order covering at least the 28
// days before now; weekStart is the start of the current week. Gaps are left out.
func Objective(samples []Sample, objective float64, dir Direction, ratio bool, weekStart, now time.Time) ObjectiveStats {
	st := ObjectiveStats{Objective: objective}
	var weekN, weekMet, n int
	var sum, hourSum float64
	var hourN int
	allowed := objective
	if dir == HigherIsBetter {
		allowed = 1 - objective
	}
	bad := func(v float64) float64 {
		if dir == HigherIsBetter {
			return 1 - v
		}
		return v
	}
	for _, s := range samples {
		if s.Gap || s.At.After(now) || s.At.Before(now.Add(-28*24*time.Hour)) {
			continue
		}
		n++
		sum += bad(s.Value)
		if !s.At.Before(weekStart) {
			weekN++
			if Meets(s.Value, objective, dir) {
				weekMet++
			}
		}
		if s.At.After(now.Add(-time.Hour)) {
			hourN++
			hourSum += bad(s.Value)
		}
	}
	if weekN > 0 {
		v := float64(weekMet) / float64(weekN)
		st.WeekMet = &v
	}
	if ratio && allowed > 0 && n > 0 {
		left := 1 - (sum/float64(n))/allowed
		st.BudgetLeft = &left
		if hourN > 0 {
			burn := (hourSum / float64(hourN)) / allowed
			st.BurnRate = &burn
		}
	}
	return st
}

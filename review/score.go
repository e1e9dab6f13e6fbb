package review

import "math"

// Noise score weights. The score is a plain sum of named parts so nobody has to trust a black box:
//
//	fires           1 per episode that started in the window
//	flaps           2 per flap (short, or refiring soon after the previous end)
//	business_pages  3 per page in business hours
//	evening_pages   6 per page in the evening or at the weekend
//	sleep_pages    12 per page in sleep hours: it woke someone up
//	verdict        +10 for noise, +5 for needs-tuning, 0 unreviewed, and for actionable minus half of
//	               everything above (an alert that is worth its pages sinks, but stays on the list)
const (
	WeightFire          = 1.0
	WeightFlap          = 2.0
	WeightBusinessPage  = 3.0
	WeightEveningPage   = 6.0
	WeightSleepPage     = 12.0
	VerdictNoiseBonus   = 10.0
	VerdictTuningBonus  = 5.0
	ActionableReduction = 0.5
)

// Names of the noise score's parts, as the API shows them in noise_parts.
const (
	PartFires         = "fires"
	PartFlaps         = "flaps"
	PartBusinessPages = "business_pages"
	PartEveningPages  = "evening_pages"
	PartSleepPages    = "sleep_pages"
	PartVerdict       = "verdict"
)

// NoiseInput is what the noise score is computed from.
type NoiseInput struct {
	Fires, Flaps int
	Pages        PagesByHours
	Verdict      string
}

// Noise is a noise score with the parts that sum to it.
type Noise struct {
	Score float64
	Parts map[string]float64
}

// NoiseScore computes the noise score of one rule. Parts always holds every part name, zero or not,
// and Score is exactly their sum.
func NoiseScore(in NoiseInput) Noise {
	parts := map[string]float64{
		PartFires:         WeightFire * float64(in.Fires),
		PartFlaps:         WeightFlap * float64(in.Flaps),
		PartBusinessPages: WeightBusinessPage * float64(in.Pages.Business),
		PartEveningPages:  WeightEveningPage * float64(in.Pages.Evening),
		PartSleepPages:    WeightSleepPage * float64(in.Pages.Sleep),
	}
	base := 0.0
	for _, v := range parts {
		base += v
	}
	switch in.Verdict {
	case VerdictNoise:
		parts[PartVerdict] = VerdictNoiseBonus
	case VerdictNeedsTuning:
		parts[PartVerdict] = VerdictTuningBonus
	case VerdictActionable:
		parts[PartVerdict] = -math.Round(base*ActionableReduction*10) / 10
	default:
		parts[PartVerdict] = 0
	}
	score := 0.0
	for _, v := range parts {
		score += v
	}
	return Noise{Score: score, Parts: parts}
}

// Trend compares this week's fires with the mean of the weeks before (oldest first).
type Trend struct {
	Current   int     `json:"current"`
	Previous  []int   `json:"previous"`
	Mean      float64 `json:"mean"`
	Direction string  `json:"direction"` // up, down, flat or new
}

// FiresTrend says whether current is up (more than 25 % above the previous weeks' mean), down (more
// than 25 % below), flat, or new (nothing fired in the previous weeks).
func FiresTrend(current int, previous []int) Trend {
	t := Trend{Current: current, Previous: append([]int{}, previous...), Direction: "flat"}
	sum := 0
	for _, p := range previous {
		sum += p
	}
	if len(previous) > 0 {
		t.Mean = float64(sum) / float64(len(previous))
	}
	switch {
	case sum == 0 && current > 0:
		t.Direction = "new"
	case float64(current) > t.Mean*1.25:
		t.Direction = "up"
	case float64(current) < t.Mean*0.75:
		t.Direction = "down"
	}
	return t
}

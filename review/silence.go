package review

import "time"

// Silence is one silence read from an Alertmanager.
type Silence struct {
	Source    string // the configured Alertmanager source name
	ID        string
	Matchers  []SilenceMatcher
	StartsAt  time.Time
	EndsAt    time.Time
	UpdatedAt time.Time
	CreatedBy string
	Comment   string
	State     string // active, pending or expired
}

// SilenceMatcher is one label matcher of a silence.
type SilenceMatcher struct {
	Name    string
	Value   string
	IsRegex bool
	IsEqual bool // false for != and !~
}

// SilencedFires counts, for one alert name, the episodes that started in a window and how many of
// them Alertmanager reported as silenced.
type SilencedFires struct {
	Alertname string
	Fires     int
	Silenced  int
}

package config

import "time"

// SLIByName returns the named SLI, or nil.
func (c *Config) SLIByName(name string) *SLI {
	for i := range c.SLIs {
		if c.SLIs[i].Name == name {
			return &c.SLIs[i]
		}
	}
	return nil
}

// SLILocation is the time zone of an SLI's hour-of-week baselines: its team's, UTC without one.
func (c *Config) SLILocation(s SLI) *time.Location { return c.HoursTeam(s.Team).location() }

// PrometheusSourceByName returns the named Prometheus source, or nil.
func (c *Config) PrometheusSourceByName(name string) *PrometheusSource {
	for i := range c.Sources.Prometheus {
		if c.Sources.Prometheus[i].Name == name {
			return &c.Sources.Prometheus[i]
		}
	}
	return nil
}

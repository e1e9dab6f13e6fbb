package demo

import (
	"fmt"

	"github.com/opsreview/opsreview/config"
)

// ConfigYAML is the configuration opsreview runs with when it is started without a config file:
// three teams in three time zones, their paging receivers, and no sources, so a demo never
// contacts the network. The demo history is written for exactly these teams and receivers.
const ConfigYAML = `# Built-in demo configuration: three teams, no sources.
teams:
  - name: payments
    timezone: Europe/Berlin
    match: {team: payments}
  - name: search
    timezone: America/New_York
    match: {team: search}
  - name: platform
    timezone: UTC
    match: {team: platform}
    toil_budget: 16h
paging_receivers: [pagerduty-payments, pagerduty-search, pagerduty-platform]
alerts: {ignore: [Watchdog, InfoInhibitor]}
runbooks: {allow_hosts: [wiki.example.com]}
`

// Config returns the built-in demo configuration, with the environment's overrides
// (DATABASE_URL, OPSREVIEW_LISTEN) applied and Demo set.
func Config() (*config.Config, error) {
	cfg, err := config.Parse([]byte(ConfigYAML))
	if err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	cfg.Demo = true
	return cfg, nil
}

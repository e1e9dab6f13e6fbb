package demo

import (
	"fmt"

	"github.com/opsreview/opsreview/config"
)

// ConfigYAML is the configuration opsreview runs with when it is started without a config file:
// three teams in three time zones, their paging receivers, and the SLIs of the demo. The SLIs
// need a Prometheus source to name; it is made up (the .invalid domain never resolves) and never
// contacted: serve starts no collectors for the built-in demo, and the SLI samples come from the
// demo fill. The demo history is written for exactly these teams, receivers and SLIs.
const ConfigYAML = `# Built-in demo configuration: three teams, five SLIs, one made-up source that is never contacted.
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
sources:
  prometheus:
    - name: prometheus-demo
      url: http://prometheus.demo.invalid:9090
slis:
  - name: checkout-requests
    service: checkout
    team: payments
    unit: requests/s
    direction: higher-is-better
    query: 'sum(rate(http_requests_total{service="checkout"}[5m]))'
  - name: checkout-errors
    service: checkout
    team: payments
    unit: ratio
    direction: lower-is-better
    objective: 0.001
    query: 'sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="checkout"}[5m]))'
  - name: payments-availability
    service: payments-api
    team: payments
    unit: ratio
    direction: higher-is-better
    objective: 0.999
    query: 'sum(rate(http_requests_total{service="payments-api",code!~"5.."}[5m])) / sum(rate(http_requests_total{service="payments-api"}[5m]))'
  - name: search-latency-p99
    service: search-api
    team: search
    unit: seconds
    direction: lower-is-better
    query: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="search-api"}[5m])))'
  - name: ingest-lag
    service: log-pipeline
    team: platform
    unit: seconds
    direction: lower-is-better
    query: 'max(time() - ingest_last_batch_timestamp_seconds{pipeline="logs"})'
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

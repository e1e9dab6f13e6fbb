package demo

import (
	"time"

	"github.com/opsreview/opsreview/review"
)

// Runbook URLs of the demo, one per state the runbooks page knows.
const (
	runbookGateway  = "https://wiki.example.com/runbooks/payments/gateway-latency"           // ok: changed last month
	runbookCheckout = "https://wiki.example.com/runbooks/payments/checkout-latency"          // old, reviewed last week
	runbookDisk     = "https://wiki.example.com/runbooks/platform/disk-space"                // stale: untouched for a year
	runbookIndexLag = "https://wiki.example.com/runbooks/search/index-lag"                   // broken: 404
	runbookCerts    = "https://wiki-old.example.com/platform/certificates"                   // broken: host gone
	runbookBackup   = "https://wiki.example.com/runbooks/platform/backups"                   // ok
	runbookSearchQ  = "https://wiki.example.com/runbooks/search/query-errors"                // ok
	runbookTarget   = "https://runbooks.prometheus-operator.dev/runbooks/general/targetdown" // stale
	runbookAPI      = "https://wiki.example.com/runbooks/platform/apiserver"                 // stale
)

// rulesScenario defines the alerting rules of the demo: what Prometheus's /api/v1/rules would list.
// NodeDiskFillingUp changes during the last full week (a longer for:, a lower threshold), so its
// rule page has two versions. CheckoutErrorRateHigh, KubeNodeNotReady and KubePodCrashLooping have
// no runbook_url: their runbooks are missing.
func rulesScenario(g *gen) {
	add := func(file, group, name, expr string, forDur time.Duration, labels, ann map[string]string, receiver string, road review.Road) {
		g.alerts[name] = &alertDef{
			rule: review.AlertRule{Source: promSource, File: file, Group: group, GroupInterval: time.Minute,
				Alertname: name, Expr: expr, For: forDur, Labels: labels, Annotations: ann, Health: "ok"},
			receiver: receiver, road: road,
		}
	}
	const (
		payments = "/etc/prometheus/rules/payments.yml"
		search   = "/etc/prometheus/rules/search.yml"
		platform = "/etc/prometheus/rules/platform.yml"
		general  = "/etc/prometheus/rules/general.yml"
	)
	add(payments, "payments.gateway", "PaymentGatewayLatencyHigh",
		`histogram_quantile(0.99, sum by (le) (rate(gateway_request_duration_seconds_bucket{service="payment-gateway"}[5m]))) > 0.8`,
		5*time.Minute, map[string]string{"severity": "critical", "team": "payments"},
		map[string]string{"summary": "Payment gateway p99 latency above 800ms", "runbook_url": runbookGateway},
		"pagerduty-payments", "")
	add(payments, "payments.checkout", "CheckoutErrorRateHigh",
		`sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="checkout"}[5m])) > 0.02`,
		2*time.Minute, map[string]string{"severity": "critical", "team": "payments"},
		map[string]string{"summary": "Checkout is failing more than 2% of requests"},
		"pagerduty-payments", "")
	add(payments, "payments.checkout", "CheckoutLatencyP99High",
		`histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="checkout"}[5m]))) > 1.5`,
		10*time.Minute, map[string]string{"severity": "warning", "team": "payments"},
		map[string]string{"summary": "Checkout p99 latency above 1.5s", "runbook_url": runbookCheckout},
		"slack-payments", "")
	add(search, "search.indexer", "SearchIndexLagHigh",
		`max(search_index_lag_seconds) > 600`,
		5*time.Minute, map[string]string{"severity": "warning", "team": "search"},
		map[string]string{"summary": "Search index is more than 10 minutes behind", "runbook_url": runbookIndexLag},
		"pagerduty-search", "")
	add(search, "search.api", "SearchQueryErrorsHigh",
		`sum(rate(search_queries_failed_total[5m])) / sum(rate(search_queries_total[5m])) > 0.05`,
		5*time.Minute, map[string]string{"severity": "critical", "team": "search"},
		map[string]string{"summary": "More than 5% of search queries fail", "runbook_url": runbookSearchQ},
		"pagerduty-search", "")
	diskAnn := map[string]string{"summary": "Postgres data volume is filling up", "runbook_url": runbookDisk}
	add(platform, "platform.nodes", "NodeDiskFillingUp",
		`node_filesystem_avail_bytes{mountpoint="/var/lib/postgresql"} / node_filesystem_size_bytes{mountpoint="/var/lib/postgresql"} < 0.07`,
		10*time.Minute, map[string]string{"severity": "warning", "team": "platform"}, diskAnn,
		"slack-platform", "")
	add(platform, "platform.nodes", "KubeNodeNotReady",
		`kube_node_status_condition{condition="Ready",status="true"} == 0`,
		15*time.Minute, map[string]string{"severity": "critical", "team": "platform"},
		map[string]string{"summary": "A Kubernetes node is not ready"},
		"pagerduty-platform", review.RoadAlertmanager)
	add(platform, "platform.backups", "BackupJobSlow",
		`time() - backup_last_success_timestamp_seconds{job="pg-backup"} > 26 * 3600`,
		30*time.Minute, map[string]string{"severity": "warning", "team": "platform"},
		map[string]string{"summary": "The nightly Postgres backup is late", "runbook_url": runbookBackup},
		"slack-platform", review.RoadAlertmanager)
	add(platform, "platform.certs", "CertificateExpiringSoon",
		`min by (host) (probe_ssl_earliest_cert_expiry) - time() < 14 * 86400`,
		time.Hour, map[string]string{"severity": "warning", "team": "platform"},
		map[string]string{"summary": "A TLS certificate expires within 14 days", "runbook_url": runbookCerts},
		"slack-platform", "")
	add(platform, "platform.apiserver", "KubeAPIErrorBudgetBurn",
		`sum(apiserver_request:burnrate1h) > (14.40 * 0.01)`,
		2*time.Minute, map[string]string{"severity": "critical", "team": "platform"},
		map[string]string{"summary": "The Kubernetes API server burns its error budget fast", "runbook_url": runbookAPI},
		"pagerduty-platform", "")
	add(general, "general.pods", "KubePodCrashLooping",
		`max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1`,
		15*time.Minute, map[string]string{"severity": "warning"},
		map[string]string{"summary": "A pod is crash looping"},
		"slack-default", "")
	add(general, "general.targets", "TargetDown",
		`100 * (count by (job, namespace) (up == 0) / count by (job, namespace) (up)) > 10`,
		10*time.Minute, map[string]string{"severity": "warning"},
		map[string]string{"summary": "Targets of a job are down", "runbook_url": runbookTarget},
		"", review.RoadPrometheus)
	add(general, "general.meta", "Watchdog", `vector(1)`, 0, map[string]string{"severity": "none"},
		map[string]string{"summary": "Always firing: proves the alerting pipeline works end to end"},
		"", review.RoadAlertmanager)

	order := []string{"PaymentGatewayLatencyHigh", "CheckoutErrorRateHigh", "CheckoutLatencyP99High",
		"SearchIndexLagHigh", "SearchQueryErrorsHigh", "NodeDiskFillingUp", "KubeNodeNotReady", "BackupJobSlow",
		"CertificateExpiringSoon", "KubeAPIErrorBudgetBurn", "KubePodCrashLooping", "TargetDown", "Watchdog"}
	for _, n := range order {
		g.p.rules = append(g.p.rules, g.alerts[n].rule)
	}
	// The older version of NodeDiskFillingUp fired sooner: a higher threshold and a shorter for:.
	g.p.rulesBefore = append([]review.AlertRule(nil), g.p.rules...)
	for i, r := range g.p.rulesBefore {
		if r.Alertname == "NodeDiskFillingUp" {
			r.Expr = `node_filesystem_avail_bytes{mountpoint="/var/lib/postgresql"} / node_filesystem_size_bytes{mountpoint="/var/lib/postgresql"} < 0.10`
			r.For = 2 * time.Minute
			g.p.rulesBefore[i] = r
		}
	}
	g.p.rulesChangedAt = diskRuleChange(g)
}

// diskRuleChange is when NodeDiskFillingUp was changed: the Wednesday of the last full week, 11:00
// UTC, right after last week's meeting asked for it.
func diskRuleChange(g *gen) time.Time {
	w := g.lastWeek(time.UTC)
	return w.Start.AddDate(0, 0, 2).Add(11 * time.Hour)
}

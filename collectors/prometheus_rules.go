package collectors

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/opsreview/opsreview/review"
)

// syncRules reads /api/v1/rules?type=alert and stores the source's whole alert-rule inventory.
// It returns the answer (for the rules' last evaluations) even when storing it failed.
func (p *prometheusCollector) syncRules(ctx context.Context) (*v1.RulesResult, error) {
	res, err := p.api.Rules(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading alert rules: %w", err)
	}
	rules := alertRules(p.src.Name, res)
	if err := p.st.UpsertRules(ctx, p.src.Name, rules, p.now().UTC()); err != nil {
		return &res, fmt.Errorf("storing alert rules: %w", err)
	}
	return &res, nil
}

// maxRestoreHold bounds how long after a Prometheus start the history waits for its rules to
// restore their alerts' state: a slow rule group must not stall the history for hours.
const maxRestoreHold = minHistoryOverlap

// restoreEvaluations is how many evaluation intervals after its start Prometheus needs before the
// ALERTS samples of an alert that was firing flow again: it writes none until the group has
// restored the alerts' ActiveAt from ALERTS_FOR_STATE, after its second evaluation.
const restoreEvaluations = 3

// restoring reports whether Prometheus, started at start, may still be restoring alert state at
// now: some alerting rule has not been evaluated restoreEvaluations of its group's intervals after
// the start (a zero last evaluation: not at all since). Until then a firing alert has no samples
// after the restart although it goes on, and its run would look resolved.
func restoring(start, now time.Time, res *v1.RulesResult) bool {
	if start.IsZero() || res == nil || now.Sub(start) >= maxRestoreHold {
		return false
	}
	for _, g := range res.Groups {
		interval := time.Duration(g.Interval * float64(time.Second))
		if interval <= 0 {
			interval = defaultEvalInterval
		}
		need := start.Add(min(restoreEvaluations*interval, maxRestoreHold))
		for _, r := range g.Rules {
			if ar, ok := r.(v1.AlertingRule); ok && ar.LastEvaluation.Before(need) {
				return true
			}
		}
	}
	return false
}

// alertRules turns a rules response into alert rules, in API order; recording rules are skipped.
func alertRules(source string, res v1.RulesResult) []review.AlertRule {
	var out []review.AlertRule
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			ar, ok := r.(v1.AlertingRule)
			if !ok {
				continue
			}
			out = append(out, review.AlertRule{
				Source: source, File: g.File, Group: g.Name,
				GroupInterval: time.Duration(g.Interval * float64(time.Second)),
				Alertname:     ar.Name, Expr: ar.Query, For: time.Duration(ar.Duration * float64(time.Second)),
				Labels: labelMap(ar.Labels), Annotations: labelMap(ar.Annotations),
				Health: string(ar.Health), LastError: ar.LastError,
			})
		}
	}
	return out
}

func labelMap(ls model.LabelSet) map[string]string {
	m := make(map[string]string, len(ls))
	for k, v := range ls {
		m[string(k)] = string(v)
	}
	return m
}

// externalLabels reads the source's external labels and stores them. When the config endpoint
// fails it falls back to what this process read before, or to stored labels; with neither, the
// labels are unknown and the history must wait (fingerprints would not meet Alertmanager's).
func (p *prometheusCollector) externalLabels(ctx context.Context) (map[string]string, error) {
	ext, err := p.fetchExternalLabels(ctx)
	if err == nil {
		if err := p.st.SetExternalLabels(ctx, p.src.Name, KindPrometheus, ext); err != nil {
			return nil, err
		}
		p.ext = ext
		return ext, nil
	}
	if p.ext != nil {
		p.log.Warn("reading external labels failed; using the ones read before", "err", err)
		return p.ext, nil
	}
	st, serr := p.st.CollectorState(ctx, p.src.Name, KindPrometheus)
	if serr == nil && len(st.ExternalLabels) > 0 {
		p.log.Warn("reading external labels failed; using the stored ones", "err", err)
		return st.ExternalLabels, nil
	}
	return nil, fmt.Errorf("reading external labels (needed before the ALERTS history): %w", err)
}

// fetchExternalLabels reads global.external_labels from /api/v1/status/config. Query layers that
// do not serve it (Thanos, Mimir: 404) have none to add: their series already carry them.
func (p *prometheusCollector) fetchExternalLabels(ctx context.Context) (map[string]string, error) {
	u := p.client.URL("/api/v1/status/config", nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, body, err := p.client.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return map[string]string{}, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("status config: %s", resp.Status)
	}
	var env struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			YAML string `json:"yaml"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("decoding status config: %w", err)
	}
	if env.Status != "success" {
		return nil, fmt.Errorf("status config: %s", env.Error)
	}
	return parseExternalLabels(env.Data.YAML)
}

// parseExternalLabels reads global.external_labels from a Prometheus configuration file.
func parseExternalLabels(conf string) (map[string]string, error) {
	var c struct {
		Global struct {
			ExternalLabels map[string]string `yaml:"external_labels"`
		} `yaml:"global"`
	}
	if err := yaml.Unmarshal([]byte(conf), &c); err != nil {
		return nil, fmt.Errorf("parsing the Prometheus configuration: %w", err)
	}
	if c.Global.ExternalLabels == nil {
		return map[string]string{}, nil
	}
	return c.Global.ExternalLabels, nil
}

package upstreamtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Alert is an alert as posted to Alertmanager's API, the way Prometheus
// sends them.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// StartsAt and EndsAt are sent as given. A zero EndsAt lets
	// Alertmanager apply resolve_timeout; an EndsAt in the past resolves
	// the alert.
	StartsAt     time.Time `json:"-"`
	EndsAt       time.Time `json:"-"`
	GeneratorURL string    `json:"generatorURL,omitempty"`
}

// MarshalJSON writes the API's shape, leaving out zero times rather than
// sending year 1.
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert
	out := struct {
		plain
		StartsAt string `json:"startsAt,omitempty"`
		EndsAt   string `json:"endsAt,omitempty"`
	}{plain: plain(a)}
	if !a.StartsAt.IsZero() {
		out.StartsAt = a.StartsAt.UTC().Format(time.RFC3339Nano)
	}
	if !a.EndsAt.IsZero() {
		out.EndsAt = a.EndsAt.UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal(out)
}

// Matcher selects alerts by one label, for Silence.
type Matcher struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// IsRegex makes Value a regular expression.
	IsRegex bool `json:"isRegex"`
	// NotEqual negates the match (!= or !~).
	NotEqual bool `json:"-"`
}

// MarshalJSON adds the API's isEqual, which defaults to true there.
func (m Matcher) MarshalJSON() ([]byte, error) {
	type plain Matcher
	return json.Marshal(struct {
		plain
		IsEqual bool `json:"isEqual"`
	}{plain(m), !m.NotEqual})
}

// PostAlerts sends alerts to POST /api/v2/alerts, as Prometheus would.
func (a *Alertmanager) PostAlerts(ctx context.Context, alerts []Alert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return fmt.Errorf("encode alerts: %w", err)
	}
	if _, err := a.do(ctx, http.MethodPost, "/api/v2/alerts", body); err != nil {
		return fmt.Errorf("post alerts: %w", err)
	}
	return nil
}

// Silence creates a silence for [start, end) over the alerts that match all
// matchers, via POST /api/v2/silences, and returns its id.
func (a *Alertmanager) Silence(ctx context.Context, matchers []Matcher, start, end time.Time) (string, error) {
	body, err := json.Marshal(map[string]any{
		"matchers":  matchers,
		"startsAt":  start.UTC().Format(time.RFC3339Nano),
		"endsAt":    end.UTC().Format(time.RFC3339Nano),
		"createdBy": "upstreamtest",
		"comment":   "created by a test",
	})
	if err != nil {
		return "", fmt.Errorf("encode silence: %w", err)
	}
	resp, err := a.do(ctx, http.MethodPost, "/api/v2/silences", body)
	if err != nil {
		return "", fmt.Errorf("create silence: %w", err)
	}
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	if err := json.Unmarshal(resp, &out); err != nil || out.SilenceID == "" {
		return "", fmt.Errorf("create silence: unexpected answer %q (%v)", resp, err)
	}
	return out.SilenceID, nil
}

// ExpireSilence ends a silence now, via DELETE /api/v2/silence/{id}.
func (a *Alertmanager) ExpireSilence(ctx context.Context, id string) error {
	if _, err := a.do(ctx, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil); err != nil {
		return fmt.Errorf("expire silence %s: %w", id, err)
	}
	return nil
}

// do sends one API request and returns the body of a 2xx answer.
func (a *Alertmanager) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.URL+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(out)))
	}
	return out, nil
}

package collectors

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsreview/opsreview/review"
)

// maxAPIBody bounds what one Alertmanager API answer may weigh.
const maxAPIBody = 64 << 20

// amClient reads Alertmanager's v2 API.
type amClient struct {
	base *url.URL
	hc   *http.Client
}

func newAMClient(rawURL string, hc *http.Client) (*amClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	return &amClient{base: u, hc: hc}, nil
}

func (c *amClient) get(ctx context.Context, path string, q url.Values, into any) error {
	u := c.base.JoinPath(path)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAPIBody)).Decode(into); err != nil {
		return fmt.Errorf("decoding GET %s: %w", path, err)
	}
	return nil
}

// amStatus is the part of /api/v2/status opsreview uses.
type amStatus struct {
	Uptime time.Time `json:"uptime"` // when this Alertmanager process started
}

// amAlert is one alert of /api/v2/alerts.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	Status       struct {
		State       string   `json:"state"` // unprocessed, active or suppressed
		SilencedBy  []string `json:"silencedBy"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// amSilence is one silence of /api/v2/silences.
type amSilence struct {
	ID     string `json:"id"`
	Status struct {
		State string `json:"state"`
	} `json:"status"`
	UpdatedAt time.Time `json:"updatedAt"`
	Comment   string    `json:"comment"`
	CreatedBy string    `json:"createdBy"`
	StartsAt  time.Time `json:"startsAt"`
	EndsAt    time.Time `json:"endsAt"`
	Matchers  []struct {
		Name    string `json:"name"`
		Value   string `json:"value"`
		IsRegex bool   `json:"isRegex"`
		IsEqual *bool  `json:"isEqual"` // absent before Alertmanager 0.22: equal
	} `json:"matchers"`
}

func (c *amClient) status(ctx context.Context) (amStatus, error) {
	var s amStatus
	err := c.get(ctx, "/api/v2/status", nil, &s)
	return s, err
}

// alerts returns every alert Alertmanager holds: active, silenced, inhibited and unprocessed.
func (c *amClient) alerts(ctx context.Context) ([]amAlert, error) {
	var as []amAlert
	q := url.Values{"active": {"true"}, "silenced": {"true"}, "inhibited": {"true"}, "unprocessed": {"true"}}
	err := c.get(ctx, "/api/v2/alerts", q, &as)
	return as, err
}

func (c *amClient) silences(ctx context.Context) ([]amSilence, error) {
	var ss []amSilence
	err := c.get(ctx, "/api/v2/silences", nil, &ss)
	return ss, err
}

// alertReports turns polled alerts into reports and the fingerprints of the alerts still firing.
// A firing alert's endsAt is an expiry. An alert whose endsAt has passed has resolved at endsAt,
// exactly what Alertmanager would put in a resolved notification: it is reported as ended, which
// recovers alerts that fired and resolved while the webhook could not deliver (Alertmanager never
// sends a resolved-only notification for a group whose firing one failed), and counts as missing.
func alertReports(as []amAlert, source string, teamFor func(map[string]string) string, now time.Time) ([]review.AlertReport, []uint64) {
	var reports []review.AlertReport
	var present []uint64
	for _, a := range as {
		resolved := !a.EndsAt.IsZero() && a.EndsAt.Before(now)
		ls := make(model.LabelSet, len(a.Labels))
		for k, v := range a.Labels {
			ls[model.LabelName(k)] = model.LabelValue(v)
		}
		fp := uint64(ls.Fingerprint())
		r := review.AlertReport{
			Fingerprint: fp, Labels: a.Labels, Annotations: a.Annotations, GeneratorURL: a.GeneratorURL,
			StartsAt: a.StartsAt.UTC(), ExpiresAt: a.EndsAt.UTC(), ObservedAt: now,
			Road: review.RoadAlertmanager, Source: source, Team: teamFor(a.Labels),
			Silenced: a.Status.State == "suppressed" && len(a.Status.SilencedBy) > 0,
		}
		if resolved {
			r.EndsAt, r.EndKind, r.ExpiresAt = a.EndsAt.UTC(), review.EndResolved, time.Time{}
		} else {
			present = append(present, fp)
		}
		reports = append(reports, r)
	}
	return reports, present
}

func silences(ss []amSilence, source string) []review.Silence {
	out := make([]review.Silence, len(ss))
	for i, s := range ss {
		rs := review.Silence{Source: source, ID: s.ID, StartsAt: s.StartsAt.UTC(), EndsAt: s.EndsAt.UTC(),
			UpdatedAt: s.UpdatedAt.UTC(), CreatedBy: s.CreatedBy, Comment: s.Comment, State: s.Status.State}
		for _, m := range s.Matchers {
			rs.Matchers = append(rs.Matchers, review.SilenceMatcher{Name: m.Name, Value: m.Value, IsRegex: m.IsRegex,
				IsEqual: m.IsEqual == nil || *m.IsEqual})
		}
		out[i] = rs
	}
	return out
}

package upstreamtest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// AlertmanagerOptions configures StartAlertmanager. The zero value runs an
// Alertmanager that notifies nobody; set WebhookURL to receive its webhooks.
type AlertmanagerOptions struct {
	// WebhookURL, when set, adds a receiver named "opsreview" that posts
	// there, in front of Receivers (so it is the default receiver).
	WebhookURL string
	// MaxAlerts and BearerToken apply to the WebhookURL receiver; see Receiver.
	MaxAlerts   int
	BearerToken string

	// Receivers are the notification targets. The first is the root route's
	// receiver; each later one gets a child route (with continue: true) for
	// the alerts whose labels equal its Match. With no receiver at all, a
	// receiver without webhooks named "null" is the root.
	Receivers []Receiver

	// GroupBy is the root route's group_by; default [alertname].
	GroupBy []string
	// GroupWait and GroupInterval default to 1s, RepeatInterval to 1h.
	GroupWait, GroupInterval, RepeatInterval time.Duration
}

// Receiver is one Alertmanager receiver with at most one webhook.
type Receiver struct {
	// Name is the receiver's name, as webhooks report it. Required.
	Name string
	// WebhookURL gets the receiver's notifications (send_resolved: true);
	// empty means the receiver notifies nobody.
	WebhookURL string
	// MaxAlerts caps the alerts per webhook message (max_alerts); 0: no cap.
	MaxAlerts int
	// BearerToken, when set, is sent as "Authorization: Bearer <token>".
	BearerToken string
	// Match routes alerts carrying all these labels to this receiver.
	// Ignored on the first receiver, which gets everything else.
	Match map[string]string
}

// Alertmanager is a running prometheus-alertmanager owned by one test.
// Its methods that return nothing must be called from the test's goroutine.
type Alertmanager struct {
	// URL is the base URL, like http://127.0.0.1:9093 (no trailing slash).
	// It stays the same across Stop and Restart.
	URL string
	p   *process
}

// StartAlertmanager writes a configuration from opts, starts
// prometheus-alertmanager on a free loopback port with clustering off,
// and returns once /-/ready answers. The server is killed when the test ends.
func StartAlertmanager(tb testing.TB, opts AlertmanagerOptions) *Alertmanager {
	tb.Helper()
	return startAlertmanager(tb, opts, []string{"--cluster.listen-address="})
}

// ClusterPeerTimeout is how long each replica of a StartAlertmanagerCluster cluster waits per
// position before notifying (--cluster.peer-timeout; Alertmanager's default is 15 s): replica i
// sends a group's notification only if the notification log gossiped from replicas 0…i-1 shows
// none of them has after i times this long.
const ClusterPeerTimeout = 2 * time.Second

// StartAlertmanagerCluster starts n Alertmanagers with the same configuration, gossiping with each
// other on loopback (--cluster.listen-address=127.0.0.1:<port>, --cluster.peer for every other
// replica), and returns once each is ready and sees all n members. Each one's alerts must be
// posted to it (as Prometheus does); the cluster shares silences and the notification log, so a
// group is notified once, by the first replica in the cluster's order.
func StartAlertmanagerCluster(tb testing.TB, opts AlertmanagerOptions, n int) []*Alertmanager {
	tb.Helper()
	ports := make([]int, n)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			tb.Fatalf("upstreamtest: %v", err)
		}
		ports[i] = p
	}
	var ams []*Alertmanager
	for i := range n {
		args := []string{
			"--cluster.listen-address=127.0.0.1:" + strconv.Itoa(ports[i]),
			"--cluster.advertise-address=127.0.0.1:" + strconv.Itoa(ports[i]),
			"--cluster.peer-timeout=" + model.Duration(ClusterPeerTimeout).String(),
			"--cluster.settle-timeout=5s",
			"--cluster.gossip-interval=100ms",
			"--cluster.pushpull-interval=5s",
		}
		for j, p := range ports {
			if j != i {
				args = append(args, "--cluster.peer=127.0.0.1:"+strconv.Itoa(p))
			}
		}
		ams = append(ams, startAlertmanager(tb, opts, args))
	}
	for i, am := range ams {
		if err := waitClusterSize(am.URL, n); err != nil {
			tb.Fatalf("upstreamtest: alertmanager replica %d: %v", i, err)
		}
	}
	return ams
}

// waitClusterSize waits until the Alertmanager at base reports n cluster members.
func waitClusterSize(base string, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	var last error
	for {
		body, err := getOK(ctx, base+"/api/v2/status")
		if err == nil {
			var st struct {
				Cluster struct {
					Status string            `json:"status"`
					Peers  []json.RawMessage `json:"peers"`
				} `json:"cluster"`
			}
			if err = json.Unmarshal(body, &st); err == nil {
				if len(st.Cluster.Peers) == n && st.Cluster.Status == "ready" {
					return nil
				}
				err = fmt.Errorf("cluster %s with %d of %d peers", st.Cluster.Status, len(st.Cluster.Peers), n)
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not formed: %w", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func startAlertmanager(tb testing.TB, opts AlertmanagerOptions, clusterArgs []string) *Alertmanager {
	tb.Helper()
	bin := lookBinary(tb, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	dir := tb.TempDir()
	cfg, err := alertmanagerConfig(opts)
	if err != nil {
		tb.Fatalf("upstreamtest: %v", err)
	}
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		tb.Fatalf("upstreamtest: write alertmanager config: %v", err)
	}
	storage := filepath.Join(dir, "data")
	args := func(port int) []string {
		return append([]string{
			"--config.file=" + cfgPath,
			"--storage.path=" + storage,
			"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
			"--web.external-url=http://127.0.0.1:" + strconv.Itoa(port),
		}, clusterArgs...)
	}
	ready := func(ctx context.Context, base string) error {
		_, err := getOK(ctx, base+"/-/ready")
		return err
	}
	p := newProcess(tb, "alertmanager", bin, dir, args, ready)
	p.start(false)
	return &Alertmanager{URL: p.baseURL(), p: p}
}

// Stop shuts the Alertmanager down cleanly, saving its silences and
// notification log; its URL then refuses connections.
func (a *Alertmanager) Stop() { a.p.stop() }

// Restart stops the Alertmanager if it runs and starts it again on the same
// port with the same storage, so silences and the notification log survive.
func (a *Alertmanager) Restart() {
	a.p.tb.Helper()
	a.p.stop()
	a.p.start(true)
}

// alertmanagerConfig renders alertmanager.yml.
func alertmanagerConfig(opts AlertmanagerOptions) ([]byte, error) {
	receivers := opts.Receivers
	if opts.WebhookURL != "" {
		first := Receiver{Name: "opsreview", WebhookURL: opts.WebhookURL,
			MaxAlerts: opts.MaxAlerts, BearerToken: opts.BearerToken}
		receivers = append([]Receiver{first}, receivers...)
	}
	if len(receivers) == 0 {
		receivers = []Receiver{{Name: "null"}}
	}
	groupBy := opts.GroupBy
	if len(groupBy) == 0 {
		groupBy = []string{"alertname"}
	}

	type m = map[string]any
	var rcvs []m
	var routes []m
	for i, r := range receivers {
		if r.Name == "" {
			return nil, fmt.Errorf("alertmanager receiver %d has no name", i)
		}
		rc := m{"name": r.Name}
		if r.WebhookURL != "" {
			wh := m{"url": r.WebhookURL, "send_resolved": true}
			if r.MaxAlerts > 0 {
				wh["max_alerts"] = r.MaxAlerts
			}
			if r.BearerToken != "" {
				wh["http_config"] = m{"authorization": m{"type": "Bearer", "credentials": r.BearerToken}}
			}
			rc["webhook_configs"] = []m{wh}
		}
		rcvs = append(rcvs, rc)
		if i > 0 {
			var matchers []string
			for _, k := range slices.Sorted(maps.Keys(r.Match)) {
				matchers = append(matchers, k+"="+strconv.Quote(r.Match[k]))
			}
			routes = append(routes, m{"receiver": r.Name, "matchers": matchers, "continue": true})
		}
	}
	root := m{
		"receiver":        receivers[0].Name,
		"group_by":        groupBy,
		"group_wait":      duration(opts.GroupWait, time.Second),
		"group_interval":  duration(opts.GroupInterval, time.Second),
		"repeat_interval": duration(opts.RepeatInterval, time.Hour),
	}
	if len(routes) > 0 {
		root["routes"] = routes
	}
	out, err := yaml.Marshal(m{"route": root, "receivers": rcvs})
	if err != nil {
		return nil, fmt.Errorf("render alertmanager config: %w", err)
	}
	return out, nil
}

// duration renders d (or def when d is zero) the way Prometheus configs
// spell durations.
func duration(d, def time.Duration) string {
	if d == 0 {
		d = def
	}
	return model.Duration(d).String()
}

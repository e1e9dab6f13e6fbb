package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/opsreview/opsreview/store/storetest"
)

// TestSecurityCanarySecretsNeverShown is scenario 9's secrets check: every secret opsreview holds
// is a canary value (the database password, the webhook token, a person's basic-auth password, an
// API token, the sources' bearer token, basic-auth and URL passwords), errors are driven on every
// road (a wrong token or password, an unreachable and a missing database, unreachable sources,
// bad input, unknown pages, --check-config), and no canary appears in any response body or
// header, /metrics, or the logs at debug level.
func TestSecurityCanarySecretsNeverShown(t *testing.T) {
	c := map[string]string{
		"db password":        "cnry-dbpass-7f3a1c",
		"webhook token":      "cnry-hook-91be0d",
		"basic password":     "cnry-basic-44d0e2",
		"wrong password":     "cnry-wrongpw-e61f",
		"wrong webhook":      "cnry-wronghook-2b7c",
		"wrong API token":    "orapi_cnry-wrongapi-8d3e",
		"prometheus bearer":  "cnry-prom-bearer-0c1e",
		"prometheus URL pw":  "cnry-prom-urlpw-6a9d",
		"alertmanager basic": "cnry-am-pass-5a2b",
	}
	dbURL, err := url.Parse(storetest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	dbURL.User = url.UserPassword(dbURL.User.Username(), c["db password"]) // local Postgres trusts: any password works
	hash, err := bcrypt.GenerateFromPassword([]byte(c["basic password"]), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfgText := fmt.Sprintf(`paging_receivers: [pager]
webhook: {token: %s}
auth: {mode: basic, basic: {users: {alice: %q}}}
sources:
  prometheus:
    - {name: prom, url: "http://scraper:%s@127.0.0.1:1", bearer_token: %s, interval: 1s, timeout: 1s}
  alertmanager:
    - {name: am, url: "http://127.0.0.1:1", basic_auth: {username: am, password: %s}, interval: 1s, timeout: 1s}
`, c["webhook token"], hash, c["prometheus URL pw"], c["prometheus bearer"], c["alertmanager basic"])
	cfgPath := filepath.Join(t.TempDir(), "opsreview.yml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder // everything opsreview said, anywhere
	say := func(where, s string) { fmt.Fprintf(&seen, "== %s\n%s\n", where, s) }

	// The CLI: the effective config, an unreachable and a missing database.
	t.Setenv("DATABASE_URL", dbURL.String())
	out, errOut, err := runCLI(t, "--check-config", "--config", cfgPath)
	say("--check-config", fmt.Sprint(out, errOut, err))
	for _, bad := range []string{
		"postgres://postgres:" + c["db password"] + "@127.0.0.1:1/x?sslmode=disable&connect_timeout=2",
		strings.Replace(dbURL.String(), dbURL.Path, "/no_such_database_cnry", 1),
		"postgres://postgres:" + c["db password"] + "@[::1:1/x",
	} {
		t.Setenv("DATABASE_URL", bad)
		out, errOut, err := runCLI(t, "migrate", "--config", cfgPath, "--log.level", "debug")
		say("migrate with a bad database", fmt.Sprint(out, errOut, err))
		out, errOut, err = runCLI(t, "serve", "--config", cfgPath, "--log.level", "debug", "--listen", freeAddr(t))
		say("serve with a bad database", fmt.Sprint(out, errOut, err))
	}
	t.Setenv("DATABASE_URL", dbURL.String())
	if _, _, err := runCLI(t, "migrate", "--config", cfgPath); err != nil {
		t.Fatal(err)
	}
	apiToken, _, err := runCLI(t, "api-token", "create", "--name", "ci", "--config", cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	c["API token"] = strings.TrimSpace(apiToken)

	// The server, logging at debug level.
	addr := freeAddr(t)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath, "--listen", addr, "--log.level", "debug"}, io.Discard, logs)
	}()
	base := "http://" + addr
	waitFor(t, "opsreview to be ready", 30*time.Second, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	send := func(method, path, body string, hdr ...string) (int, string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		say(method+" "+path, fmt.Sprint(resp.StatusCode, resp.Header, string(b)))
		return resp.StatusCode, string(b)
	}
	alice := "Basic " + basicAuth("alice", c["basic password"])
	wrong := "Basic " + basicAuth("alice", c["wrong password"])
	hook := `{"version":"4","receiver":"pager","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-01T00:00:00Z"}]}`

	// Wait for the collectors to fail against the unreachable sources at least once.
	waitFor(t, "the sources' errors", 20*time.Second, func() bool {
		_, body := send("GET", "/api/v1/sources", "", "Authorization", "Bearer "+c["API token"])
		return strings.Count(body, `"last_error":"`)-strings.Count(body, `"last_error":""`) >= 2
	})
	for _, r := range [][]string{
		{"GET", "/episodes", ""},
		{"GET", "/episodes", "", "Authorization", wrong},
		{"GET", "/episodes", "", "Authorization", alice},
		{"GET", "/sources", "", "Authorization", alice},
		{"GET", "/review", "", "Authorization", alice},
		{"GET", "/no-such-page", "", "Authorization", alice},
		{"GET", "/alerts/%ff%00", "", "Authorization", alice},
		{"GET", "/api/v1/episodes?from=garbage", "", "Authorization", "Bearer " + c["API token"]},
		{"GET", "/api/v1/episodes", "", "Authorization", "Bearer " + c["wrong API token"]},
		{"GET", "/api/v1/sources", "", "Authorization", "Bearer " + c["API token"]},
		{"POST", "/api/v1/changes", `{"service":`, "Content-Type", "application/json", "Authorization", "Bearer " + c["API token"]},
		{"POST", "/api/v1/changes", `{"service":"x"}`, "Content-Type", "application/json", "Authorization", alice},
		{"POST", "/api/v1/alertmanager/webhook", hook, "Content-Type", "application/json"},
		{"POST", "/api/v1/alertmanager/webhook", hook, "Content-Type", "application/json", "Authorization", "Bearer " + c["wrong webhook"]},
		{"POST", "/api/v1/alertmanager/webhook", `{"version":`, "Content-Type", "application/json", "Authorization", "Bearer " + c["webhook token"]},
		{"POST", "/api/v1/alertmanager/webhook", hook, "Content-Type", "application/json", "Authorization", "Bearer " + c["webhook token"]},
		{"GET", "/metrics", ""},
		{"GET", "/readyz", ""},
		{"GET", "/healthz", ""},
	} {
		send(r[0], r[1], r[2], r[3:]...)
	}
	cancel()
	select {
	case err := <-done:
		say("serve returned", fmt.Sprint(err))
	case <-time.After(20 * time.Second):
		t.Fatal("opsreview serve did not stop")
	}
	say("logs", logs.String())
	if !strings.Contains(logs.String(), "level=DEBUG") {
		t.Errorf("no debug line was logged: the logs checked are not the debug logs")
	}

	all := seen.String()
	for name, secret := range c {
		if i := strings.Index(all, secret); i >= 0 {
			t.Errorf("the %s (%s) appears in what opsreview said: …%s…", name, secret, all[max(0, i-300):min(len(all), i+100)])
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("%d bytes checked", len(all))
	}
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

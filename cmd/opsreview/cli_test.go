package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestCLIErrorsAreOneClearLine(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(bad, []byte("teams: [{name: x, timezone: Mars/Base}]\n"), 0o600)
	for _, tc := range []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"unknown command", "", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"bad flag", "", []string{"serve", "--frob"}, "flag provided but not defined"},
		{"bad config", "", []string{"migrate", "--config", bad}, "Mars/Base"},
		{"unreachable database", "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", []string{"migrate"}, "database unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("DATABASE_URL", tc.env)
			}
			_, stderr, err := runCLI(t, tc.args...)
			if err == nil {
				t.Fatal("want a non-zero exit")
			}
			msg := strings.TrimSpace(stderr + err.Error())
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("want %q in %q", tc.want, msg)
			}
			if err != errUsage && strings.Contains(err.Error(), "\n") {
				t.Fatalf("error must be one line, got %q", err.Error())
			}
		})
	}
}

func TestCheckConfigMasksSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yml")
	os.WriteFile(path, []byte("webhook: {token: hunter2}\ndatabase: {url: 'postgres://u:pw1234@db/x'}\n"), 0o600)
	t.Setenv("DATABASE_URL", "")
	out, _, err := runCLI(t, "--check-config", "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "hunter2") || strings.Contains(out, "pw1234") || !strings.Contains(out, "max_body: 32MiB") {
		t.Fatalf("check-config must print the effective config without secrets:\n%s", out)
	}
}

func TestMigrateTwiceIsIdempotent(t *testing.T) {
	t.Setenv("DATABASE_URL", storetestURL(t))
	for i := 0; i < 2; i++ {
		if _, stderr, err := runCLI(t, "migrate"); err != nil {
			t.Fatalf("migrate #%d: %v %s", i+1, err, stderr)
		}
	}
}

func TestCheckConfigRunsEachSLIOnce(t *testing.T) {
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.FormValue("query"), "by (code)") { // several series
			io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[
				{"metric":{"code":"200"},"value":[1,"1"]},{"metric":{"code":"500"},"value":[1,"2"]}]}}`)
			return
		}
		io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0.5"]}]}}`)
	}))
	defer prom.Close()
	path := filepath.Join(t.TempDir(), "c.yml")
	cfg := "sources: {prometheus: [{name: p, url: " + prom.URL + "}]}\nslis:\n" +
		"  - {name: good, source: p, direction: lower-is-better, query: 'sum(rate(x[5m]))'}\n" +
		"  - {name: split, source: p, direction: lower-is-better, query: 'sum by (code) (rate(x[5m]))'}\n"
	os.WriteFile(path, []byte(cfg), 0o600)
	_, _, err := runCLI(t, "--check-config", "--config", path)
	if err == nil || !strings.Contains(err.Error(), `"split"`) || strings.Contains(err.Error(), `"good"`) {
		t.Fatalf("want an error naming only the SLI returning several series, got %v", err)
	}
}

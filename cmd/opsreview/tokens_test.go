package main

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/store/storetest"
)

// opsreview runs the command line against the test's database and returns stdout, stderr.
func opsreview(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestTVLinkCreateListRevoke(t *testing.T) {
	dbURL := storetest.NewURL(t)
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("OPSREVIEW_LISTEN", ":9191")
	cfgFile := filepath.Join(t.TempDir(), "opsreview.yml")
	if err := os.WriteFile(cfgFile, []byte("paging_receivers: [pager]\nteams: [{name: payments, timezone: UTC, match: {team: payments}}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OPSREVIEW_CONFIG", cfgFile)

	out, _, err := opsreview(t, "tv-link", "create", "--name", "lobby", "--team", "payments", "--expires", "90d")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(strings.TrimSpace(out))
	if err != nil || u.Scheme != "http" || u.Host != "localhost:9191" || u.Path != "/tv" || u.Query().Get("team") != "payments" {
		t.Fatalf("create printed %q, want a URL of /tv on localhost:9191 with team=payments", out)
	}
	token := u.Query().Get("token")
	if len(token) < 5+43 { // prefix + 256 bits in base64
		t.Errorf("token %q is shorter than 256 bits", token)
	}

	st, err := store.Open(context.Background(), dbURL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var clear int
	if err := st.DB().Get(&clear, `SELECT count(*) FROM access_tokens WHERE position($1::bytea in token_hash) > 0 OR encode(token_hash, 'escape') LIKE '%' || $2 || '%'`,
		[]byte(token), token); err != nil {
		t.Fatal(err)
	}
	if clear != 0 {
		t.Error("the token is stored in the clear")
	}
	tok, err := st.LookupToken(context.Background(), store.TokenTV, token)
	if err != nil || tok.Name != "lobby" || tok.Scope != "payments" || tok.ExpiresAt == nil {
		t.Fatalf("stored token = %+v, %v", tok, err)
	}

	if _, _, err := opsreview(t, "tv-link", "create", "--name", "lobby"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a second live lobby: %v", err)
	}
	if _, _, err := opsreview(t, "tv-link", "create", "--name", "x", "--team", "nobody"); err == nil {
		t.Error("an unknown team was accepted")
	}
	if out, _, err := opsreview(t, "tv-link", "create", "--name", "hall", "--base-url", "https://ops.example.com/"); err != nil || !strings.HasPrefix(out, "https://ops.example.com/tv?token=ortv_") {
		t.Errorf("--base-url: %q, %v", out, err)
	}

	out, _, err = opsreview(t, "tv-link", "list")
	if err != nil || !strings.Contains(out, "lobby") || !strings.Contains(out, "payments") || strings.Contains(out, token) {
		t.Errorf("list = %q, %v (want names, never tokens)", out, err)
	}
	if _, _, err := opsreview(t, "tv-link", "revoke", "lobby"); err != nil {
		t.Fatal(err)
	}
	if tok, err := st.LookupToken(context.Background(), store.TokenTV, token); err != nil || tok.RevokedAt == nil {
		t.Errorf("after revoke: %+v, %v", tok, err)
	}
	if _, _, err := opsreview(t, "tv-link", "revoke", "lobby"); err == nil {
		t.Error("revoking twice did not fail")
	}
	if _, _, err := opsreview(t, "tv-link", "create"); !errors.Is(err, errUsage) {
		t.Errorf("create without --name: %v, want a usage error", err)
	}
}

func TestAPITokenCreatePrintsTheTokenOnce(t *testing.T) {
	dbURL := storetest.NewURL(t)
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("OPSREVIEW_CONFIG", "")
	out, errOut, err := opsreview(t, "api-token", "create", "--name", "ci")
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out)
	if !strings.HasPrefix(token, "orapi_") || strings.Contains(errOut, token) {
		t.Fatalf("stdout %q stderr %q: want the token on stdout only", out, errOut)
	}
	out, _, err = opsreview(t, "api-token", "list")
	if err != nil || !strings.Contains(out, "ci") || !strings.Contains(out, "write") || strings.Contains(out, token) {
		t.Errorf("list = %q, %v", out, err)
	}
	if _, _, err := opsreview(t, "api-token", "revoke", "ci"); err != nil {
		t.Fatal(err)
	}
	out, _, _ = opsreview(t, "api-token", "list")
	if !strings.Contains(out, "revoked") {
		t.Errorf("list after revoke = %q", out)
	}
}

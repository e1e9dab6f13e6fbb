package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsreview/opsreview/store"
)

const tokenUsage = `Usage:
  opsreview tv-link create --name NAME [--team TEAM] [--panels a,b] [--expires 90d] [--base-url URL]
  opsreview tv-link list
  opsreview tv-link revoke NAME
  opsreview api-token create --name NAME [--read-only] [--expires 90d]
  opsreview api-token list
  opsreview api-token revoke NAME

A TV link opens /tv read-only without signing in; an API token is sent by machine clients as
"Authorization: Bearer <token>". Each is printed once, at creation: only its hash is stored.
`

// tokenNameRe is what a token's name may look like: it is typed on command lines.
var tokenNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// tokens runs "tv-link" and "api-token": create, list and revoke.
func tokens(ctx context.Context, g globalFlags, kind string, args []string, stdout, stderr io.Writer) error {
	cmdName := map[string]string{store.TokenTV: "tv-link", store.TokenAPI: "api-token"}[kind]
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return errUsage
	}
	action, rest := args[0], args[1:]
	fs := newFlagSet(cmdName+" "+action, stderr, &g)
	var o tokenOptions
	switch action {
	case "create":
		fs.StringVar(&o.name, "name", "", "the token's name, e.g. lobby or ci (required)")
		fs.StringVar(&o.expires, "expires", "", "lifetime, e.g. 90d; default: until revoked")
		if kind == store.TokenTV {
			fs.StringVar(&o.team, "team", "", "the team the screen shows (default: every team)")
			fs.StringVar(&o.panels, "panels", "", "panels to rotate, e.g. firing,pages (default: all)")
			fs.StringVar(&o.baseURL, "base-url", "", "opsreview's address as the screen reaches it (default http://localhost:<listen port>)")
		} else {
			fs.BoolVar(&o.readOnly, "read-only", false, "the token may only read (GET)")
		}
	case "list":
	case "revoke":
		fs.StringVar(&o.name, "name", "", "the token's name (or give it as the argument)")
	default:
		fmt.Fprintf(stderr, "opsreview %s: unknown action %q\n%s", cmdName, action, tokenUsage)
		return errUsage
	}
	if err := fs.Parse(rest); err != nil {
		return errUsage
	}
	if action == "revoke" && o.name == "" && fs.NArg() == 1 {
		o.name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "opsreview %s %s: unexpected argument %q\n", cmdName, action, fs.Arg(0))
		return errUsage
	}
	if action != "list" && !tokenNameRe.MatchString(o.name) {
		fmt.Fprintf(stderr, "opsreview %s %s: --name is required: letters, digits, '.', '_' and '-', up to 64\n", cmdName, action)
		return errUsage
	}

	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, g.logger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now().UTC()

	switch action {
	case "list":
		return listTokens(ctx, st, kind, now, stdout)
	case "revoke":
		if err := st.RevokeToken(ctx, kind, o.name, now); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no live %s named %q", cmdName, o.name)
			}
			return err
		}
		fmt.Fprintf(stdout, "revoked %s %q\n", cmdName, o.name)
		return nil
	}

	t := store.Token{Kind: kind, Name: o.name, CreatedAt: now}
	if o.expires != "" {
		d, err := model.ParseDuration(o.expires)
		if err != nil || d <= 0 {
			return fmt.Errorf("--expires: %q is not a duration like 90d or 12h", o.expires)
		}
		exp := now.Add(time.Duration(d))
		t.ExpiresAt = &exp
	}
	if kind == store.TokenTV {
		if o.team != "" && cfg.TeamByName(o.team) == nil {
			return fmt.Errorf("--team: no team named %q in the config", o.team)
		}
		t.Scope = o.team
	} else {
		t.Scope = "write"
		if o.readOnly {
			t.Scope = "read"
		}
	}
	prefix := map[string]string{store.TokenTV: "ortv_", store.TokenAPI: "orapi_"}[kind]
	secret := prefix + randomToken()
	if _, err := st.CreateToken(ctx, t, secret); err != nil {
		if errors.Is(err, store.ErrTokenNameTaken) {
			return fmt.Errorf("a live %s named %q exists: revoke it first or pick another name", cmdName, o.name)
		}
		return err
	}
	if kind == store.TokenAPI {
		fmt.Fprintln(stdout, secret)
		fmt.Fprintf(stderr, "API token %q created (%s); it is shown only now: send it as \"Authorization: Bearer <token>\"\n", o.name, t.Scope)
		return nil
	}
	base := o.baseURL
	if base == "" {
		base = "http://localhost:" + listenPort(cfg.Listen)
	}
	q := url.Values{"token": {secret}}
	if o.team != "" {
		q.Set("team", o.team)
	}
	if o.panels != "" {
		q.Set("panels", o.panels)
	}
	fmt.Fprintf(stdout, "%s/tv?%s\n", strings.TrimRight(base, "/"), q.Encode())
	fmt.Fprintf(stderr, "TV link %q created; it is shown only now: open it once on the screen\n", o.name)
	return nil
}

type tokenOptions struct {
	name, expires, team, panels, baseURL string
	readOnly                             bool
}

func listTokens(ctx context.Context, st *store.Store, kind string, now time.Time, stdout io.Writer) error {
	list, err := st.Tokens(ctx, kind)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSCOPE\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
	stamp := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04")
	}
	for _, t := range list {
		status := "live"
		switch {
		case t.RevokedAt != nil:
			status = "revoked " + stamp(t.RevokedAt)
		case !t.Valid(now):
			status = "expired"
		}
		scope := t.Scope
		if scope == "" {
			scope = "all teams"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, scope, stamp(&t.CreatedAt), stamp(t.ExpiresAt), stamp(t.LastUsedAt), status)
	}
	return tw.Flush()
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// listenPort is the port of a listen address like :8080 or 0.0.0.0:9000.
func listenPort(listen string) string {
	if _, port, err := net.SplitHostPort(listen); err == nil && port != "" {
		return port
	}
	return "8080"
}

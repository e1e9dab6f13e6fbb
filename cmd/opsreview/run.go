package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// errUsage means the command line was wrong; the message has already been printed.
var errUsage = errors.New("usage")

const usage = `opsreview — the weekly Operational Review Meeting, from Prometheus and Alertmanager.

Usage:
  opsreview serve   [--config FILE] [--listen ADDR]   web server and collectors
  opsreview migrate [--config FILE]                   apply database migrations and exit
  opsreview collect --once [--config FILE]            run every collector once and exit
  opsreview demo    [--config FILE] [--seed N]        fill the database with demo data and exit
  opsreview demo    [--config FILE] [--seed N]        fill the database with eight weeks of demo data
  opsreview tv-link create|list|revoke ...            read-only links for wall screens
  opsreview api-token create|list|revoke ...          tokens for CI and bots (Authorization: Bearer)
  opsreview version                                   print the version
  opsreview --check-config [--config FILE]            print the effective config (secrets masked)

Postgres comes from DATABASE_URL or database.url in the config file. The config file may also be
given by OPSREVIEW_CONFIG. Without a config file, serve fills and shows demo data.
`

// run is the whole program: it parses args and runs one subcommand until it finishes or ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var global globalFlags
	fs := newFlagSet("opsreview", stderr, &global)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	args = fs.Args()
	if global.checkConfig {
		return checkConfig(ctx, global.configPath(), stdout)
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		var listen string
		sfs := newFlagSet("serve", stderr, &global)
		sfs.StringVar(&listen, "listen", "", "listen address (default :8080, env OPSREVIEW_LISTEN)")
		if err := sfs.Parse(rest); err != nil {
			return errUsage
		}
		if global.checkConfig {
			return checkConfig(ctx, global.configPath(), stdout)
		}
		return serve(ctx, global, listen, stderr)
	case "migrate":
		if err := newFlagSet("migrate", stderr, &global).Parse(rest); err != nil {
			return errUsage
		}
		return migrate(ctx, global, stdout, stderr)
	case "collect":
		var once bool
		cfs := newFlagSet("collect", stderr, &global)
		cfs.BoolVar(&once, "once", false, "run every collector once and exit")
		if err := cfs.Parse(rest); err != nil {
			return errUsage
		}
		if !once {
			fmt.Fprintln(stderr, "opsreview collect: only --once is supported (serve runs the collectors continuously)")
			return errUsage
		}
		return collectOnce(ctx, global, stderr)
	case "tv-link":
		return tokens(ctx, global, store.TokenTV, rest, stdout, stderr)
	case "api-token":
		return tokens(ctx, global, store.TokenAPI, rest, stdout, stderr)
	case "demo":
		return demoCommand(ctx, global, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "opsreview", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "opsreview: unknown command %q (run 'opsreview help' for usage)\n", cmd)
	return errUsage
}

type globalFlags struct {
	config      string
	checkConfig bool
	logFormat   string
	logLevel    string
}

func (g globalFlags) configPath() string {
	if g.config != "" {
		return g.config
	}
	return os.Getenv("OPSREVIEW_CONFIG")
}

func newFlagSet(name string, stderr io.Writer, g *globalFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&g.config, "config", g.config, "config file (YAML); env OPSREVIEW_CONFIG")
	fs.BoolVar(&g.checkConfig, "check-config", g.checkConfig, "print the effective config with secrets masked and exit")
	fs.StringVar(&g.logFormat, "log.format", "text", "log format: text or json")
	fs.StringVar(&g.logLevel, "log.level", "info", "log level: debug, info, warn, error")
	fs.Usage = func() {} // the flag package already printed the one line that matters
	return fs
}

func (g globalFlags) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(g.logFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func loadConfig(g globalFlags) (*config.Config, error) {
	cfg, err := config.Load(g.configPath())
	if err != nil {
		return nil, fmt.Errorf("bad config: %s", oneLine(err))
	}
	return cfg, nil
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return version
}

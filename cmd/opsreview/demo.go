package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/demo"
	"github.com/opsreview/opsreview/store"
)

// demoCommand is `opsreview demo [--config FILE] [--seed N]`: fill the database with demo data and
// exit. Without a config file it uses the built-in demo configuration (its teams and receivers).
func demoCommand(ctx context.Context, g globalFlags, args []string, stdout, stderr io.Writer) error {
	seed := demo.DefaultSeed
	fs := newFlagSet("demo", stderr, &g)
	fs.Int64Var(&seed, "seed", seed, "seed of the demo history: the same seed gives the same data")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := demoConfig(g)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, g.logger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	sum, err := demo.Fill(ctx, st, cfg, time.Now(), seed)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, describeFill(sum))
	return nil
}

// demoConfig is the config file when one is given, else the built-in demo configuration.
func demoConfig(g globalFlags) (*config.Config, error) {
	if g.configPath() != "" {
		return loadConfig(g)
	}
	cfg, err := demo.Config()
	if err != nil {
		return nil, fmt.Errorf("bad config: %s", oneLine(err))
	}
	return cfg, nil
}

func describeFill(s demo.Summary) string {
	if s.AlreadyFilled {
		return fmt.Sprintf("demo data of seed %d is already in the database (history up to %s): nothing written",
			s.Seed, s.Anchor.Format(time.RFC3339))
	}
	return fmt.Sprintf("demo data filled from seed %d: eight weeks up to %s, %d episodes, %d notifications (%d pages), "+
		"%d rules, %d changes, %d verdicts, %d action items, %d toil entries, %d runbook checks, %d SLIs (%d samples)",
		s.Seed, s.Anchor.Format(time.RFC3339), s.Episodes, s.Notifications, s.Pages, s.Rules, s.Changes,
		s.Verdicts, s.ActionItems, s.ToilEntries, s.RunbookChecks, s.SLIs, s.SLISamples)
}

// firstRun decides what `serve` without a config file shows. An empty database, or one that already
// holds demo data, gets the demo data and the built-in demo configuration; a database that holds
// history of its own (opsreview run on DATABASE_URL alone) is left alone and served as it is.
func firstRun(ctx context.Context, st *store.Store, cfg *config.Config, log *slog.Logger) (*config.Config, error) {
	filled, err := st.DemoFilled(ctx)
	if err != nil {
		return nil, err
	}
	if !filled {
		counts, err := st.CountNotifications(ctx)
		if err != nil {
			return nil, err
		}
		if counts.Episodes > 0 {
			log.Warn("no config file, and the database holds alert history: serving it without demo data")
			return cfg, nil
		}
	}
	dcfg, err := demo.Config()
	if err != nil {
		return nil, err
	}
	dcfg.Listen = cfg.Listen
	if !filled {
		log.Info("no config file: filling demo data (eight weeks, three teams); this takes a few seconds")
	}
	sum, err := demo.Fill(ctx, st, dcfg, time.Now(), demo.DefaultSeed)
	if err != nil {
		return nil, err
	}
	log.Info(describeFill(sum))
	return dcfg, nil
}

// browseURL is the address to open in a browser for a listener: localhost for a wildcard address.
func browseURL(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String()
	}
	host := ta.IP.String()
	if ta.IP.IsUnspecified() || ta.IP.IsLoopback() {
		host = "localhost"
	}
	return fmt.Sprintf("http://%s", net.JoinHostPort(host, fmt.Sprint(ta.Port)))
}

// announce prints where opsreview can be seen, and for demo data how to read real data instead.
func announce(w io.Writer, cfg *config.Config, addr net.Addr) {
	u := browseURL(addr)
	fmt.Fprintf(w, "\nopsreview is serving %s\n  weekly review: %s/review\n  wall TV:       %s/tv\n", u, u, u)
	if cfg.Demo {
		fmt.Fprintf(w, "  This is DEMO DATA. To read your Prometheus and Alertmanager, copy opsreview.example.yml,\n"+
			"  set sources.prometheus and sources.alertmanager, and run: opsreview serve --config opsreview.yml\n")
	}
	fmt.Fprintln(w)
}

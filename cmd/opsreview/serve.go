package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/opsreview/opsreview/collectors"
	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/server"
	"github.com/opsreview/opsreview/store"
)

func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.Database.URL, cfg.Database.ReadURL)
	if err != nil {
		return nil, fmt.Errorf("database unreachable: %s", oneLine(err))
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("migrating the database: %w", err)
	}
	if len(applied) > 0 {
		log.Info("applied migrations", "versions", applied)
	}
	// The daily rollup counts flaps under the configured thresholds (rebuilt when they changed).
	if rebuilt, err := st.SetFlapRules(ctx, time.Duration(cfg.Alerts.FlapThreshold), time.Duration(cfg.Alerts.RefireWindow)); err != nil {
		st.Close()
		return nil, fmt.Errorf("setting the flap thresholds of the daily rollup: %w", err)
	} else if rebuilt {
		log.Info("rebuilt the daily rollup for new flap thresholds",
			"flap_threshold", time.Duration(cfg.Alerts.FlapThreshold), "refire_window", time.Duration(cfg.Alerts.RefireWindow))
	}
	return st, nil
}

func migrate(ctx context.Context, g globalFlags, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	log := g.logger(stderr)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "database is migrated")
	return nil
}

// serve runs the web server and the collectors until ctx is cancelled, then stops them in order:
// HTTP first (no new work), then the collectors, then the database.
func serve(ctx context.Context, g globalFlags, listen string, stderr io.Writer) error {
	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	if listen != "" {
		cfg.Listen = listen
	}
	log := g.logger(stderr)
	setMemoryLimit(log)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if g.configPath() == "" {
		if cfg, err = firstRun(ctx, st, cfg, log); err != nil {
			return err
		}
	} else if cfg.Demo, err = st.DemoFilled(ctx); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(promcollectors.NewGoCollector(), promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}))

	now, err := clock()
	if err != nil {
		return err
	}
	copts := collectors.Options{Logger: log, Registerer: reg, Store: st, Now: now}
	var runner *collectors.Runner
	if cfg.Demo && g.configPath() == "" {
		// The built-in demo has no sources, and its runbook URLs are made up: nothing to collect.
		runner, err = collectors.NewRunner(copts)
	} else {
		runner, err = collectors.New(cfg, st, copts)
	}
	if err != nil {
		return fmt.Errorf("bad config: %w", err)
	}
	srv, err := server.New(server.Options{Config: cfg, Store: st, Logger: log, Registry: reg, Version: buildVersion(), Now: now,
		Reconcile: func() { runner.Trigger(collectors.KindAlertmanager) }})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	if cfg.Auth.Mode == "none" && !isLoopback(ln.Addr()) {
		log.Warn("auth.mode is none and opsreview listens beyond loopback: anyone who reaches it can record decisions", "listen", ln.Addr().String())
	}
	log.Info("opsreview serving", "listen", ln.Addr().String(), "version", buildVersion(), "demo", cfg.Demo)
	announce(stderr, cfg, ln.Addr())

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()

	// Collectors run until collectCtx ends; they stop after HTTP and before the database closes.
	collectCtx, stopCollectors := context.WithCancel(context.WithoutCancel(ctx))
	collectorsDone := make(chan struct{})
	go func() {
		defer close(collectorsDone)
		runner.Run(collectCtx)
	}()
	defer func() {
		stopCollectors()
		<-collectorsDone
	}()

	var metricsSrv *http.Server
	if cfg.MetricsListen != "" {
		mln, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			return fmt.Errorf("listening on metrics_listen %s: %w", cfg.MetricsListen, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10}
		go func() {
			if err := metricsSrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serving metrics: %w", err)
			}
		}()
	}

	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil {
			return err
		}
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("HTTP shutdown", "err", err)
	}
	if metricsSrv != nil {
		metricsSrv.Shutdown(sctx)
	}
	return nil
}

// defaultMemoryLimit is the Go runtime's soft memory limit for serve unless GOMEMLIMIT says
// otherwise: the garbage collector works harder as the heap nears it instead of letting the heap
// double, which keeps the resident size of serve near 150 MB under load. It is a target, not a cap:
// a heap that really needs more gets it.
const defaultMemoryLimit = 100 << 20

// setMemoryLimit applies defaultMemoryLimit when GOMEMLIMIT is not set (the runtime has read it).
func setMemoryLimit(log *slog.Logger) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		log.Debug("Go memory limit from GOMEMLIMIT", "limit", v)
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
}

func isLoopback(a net.Addr) bool {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.IsLoopback()
	}
	return false
}

// collectOnce runs every collector once and exits; errors name the source that failed.
func collectOnce(ctx context.Context, g globalFlags, stderr io.Writer) error {
	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	log := g.logger(stderr)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	now, err := clock()
	if err != nil {
		return err
	}
	runner, err := collectors.New(cfg, st, collectors.Options{Logger: log, Registerer: prometheus.NewRegistry(), Now: now})
	if err != nil {
		return fmt.Errorf("bad config: %w", err)
	}
	if len(runner.Collectors()) == 0 {
		log.Warn("no sources configured: nothing to collect")
	}
	if err := runner.RunOnce(ctx); err != nil {
		return fmt.Errorf("collect: %s", oneLine(err))
	}
	return nil
}

// checkConfig prints the effective config with every secret masked; a bad config is an error. Each
// SLI's expression is run once against its source, so a typo or a query returning several series
// is named before serve starts.
func checkConfig(ctx context.Context, path string, stdout io.Writer) error {
	cfg, err := config.Load(path)
	if err != nil {
		return fmt.Errorf("bad config: %s", oneLine(err))
	}
	if err := cfg.WriteYAML(stdout); err != nil {
		return err
	}
	var errs []string
	for _, x := range cfg.SLIs {
		src := cfg.PrometheusSourceByName(x.Source)
		if src == nil {
			continue // Validate already named it
		}
		api, err := collectors.NewSLIQueryAPI(*src)
		if err == nil {
			qctx, cancel := context.WithTimeout(ctx, time.Duration(src.Timeout))
			err = collectors.ValidateSLI(qctx, api, x)
			cancel()
		}
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("bad config: %s", strings.Join(errs, "; "))
	}
	return nil
}

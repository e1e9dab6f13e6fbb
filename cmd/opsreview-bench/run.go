package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
)

// errUsage means the command line was wrong; the message has already been printed.
var errUsage = errors.New("usage")

// options are the flags every subcommand shares.
type options struct {
	scale        Scale
	seed         uint64
	base         string // a postgres:// URL on the server to use; its database name is replaced
	runs         int
	serveBin     string
	backfillSLIs int       // SLIs in the backfill benchmark
	only         string    // "" (everything) or a comma-separated list of measurements: see wants
	out          io.Writer // the report
	log          io.Writer // progress
}

// defaultBase is the server the tool uses when neither --db nor a URL in the environment is set.
const defaultBase = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func run(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "load" && args[0] != "run") {
		fmt.Fprintln(os.Stderr, "usage: opsreview-bench load|run [--scale year|month|smoke] [--seed N] [--db URL] [--runs N] [--serve-bin PATH]")
		return errUsage
	}
	fs := flag.NewFlagSet("opsreview-bench "+args[0], flag.ContinueOnError)
	scale := fs.String("scale", "month", "data set size: year, month or smoke")
	seed := fs.Uint64("seed", 1, "random seed: the same seed and scale give the same rows")
	base := fs.String("db", envOr(defaultBase, "OPSREVIEW_BENCH_DATABASE_URL", "OPSREVIEW_TEST_DATABASE_URL", "DATABASE_URL"),
		"a postgres:// URL on the server to use (its database name is replaced)")
	runs := fs.Int("runs", 30, "timed repetitions of each page measurement")
	serveBin := fs.String("serve-bin", "", "an opsreview binary to load-test as `serve` (skipped when empty)")
	only := fs.String("only", "", "measure only these, comma-separated: ingest, pages, normal (/normal, an SLI's page and API), "+
		"tv (each TV panel), baselines (recompute every SLI's), load (`serve` under load; needs --serve-bin), "+
		"backfill (SLIs from a real Prometheus) (default: everything)")
	backfillSLIs := fs.Int("backfill-slis", 100, "SLIs (8 weeks of 5-minute samples each) in the backfill benchmark")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measurements (the in-process server's work) to this file")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	for _, part := range strings.Split(*only, ",") {
		if *only != "" && !slices.Contains(measurements, part) {
			fmt.Fprintf(os.Stderr, "unknown measurement %q in --only: want %s\n", part, strings.Join(measurements, ", "))
			return errUsage
		}
	}
	sc, ok := scales[*scale]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown scale %q: want year, month or smoke\n", *scale)
		return errUsage
	}
	o := options{scale: sc, seed: *seed, base: *base, runs: *runs, serveBin: *serveBin, only: *only, out: os.Stdout, log: os.Stderr,
		backfillSLIs: *backfillSLIs}
	if args[0] == "run" && o.only == "ingest" {
		// Ingest writes to its own scratch database: it neither needs the data set nor may it
		// generate or migrate one (another run may be using it).
		return measureIngestOnly(ctx, o)
	}
	if args[0] == "run" && o.only == "backfill" { // needs no data set: a real Prometheus and a scratch database
		return runBackfill(ctx, o)
	}
	dbURL, err := ensureDataset(ctx, o.base, datasetName(sc), sc, o.seed, o.log)
	if err != nil || args[0] == "load" {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("creating the CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("starting the CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if err := measure(ctx, o, dbURL); err != nil {
		return err
	}
	if o.wants("backfill") {
		return runBackfill(ctx, o)
	}
	return nil
}

// measurements are the parts --only can name.
var measurements = []string{"ingest", "pages", "normal", "tv", "baselines", "load", "backfill"}

// wants says whether the run measures part: everything when --only is empty, else the parts listed.
func (o options) wants(part string) bool {
	return o.only == "" || slices.Contains(strings.Split(o.only, ","), part)
}

// datasetName is the database that holds a scale's data set.
func datasetName(sc Scale) string { return "opsreview_bench_" + sc.Name }

func envOr(def string, names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return def
}

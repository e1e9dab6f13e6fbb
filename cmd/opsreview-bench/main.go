// Command opsreview-bench generates a realistic, reproducible history in a Postgres database of its
// own and measures opsreview against it: webhook ingest, page latency at one and all teams (the
// review, alerts, know your normal, each TV panel), the baseline recomputation of every SLI, and
// the memory of `opsreview serve` under load. `make bench` runs it; BENCHMARKS.md holds its output.
//
//	opsreview-bench load [--scale year|month|smoke] [--seed N] [--db URL]
//	opsreview-bench run  [--scale …] [--seed N] [--db URL] [--runs N] [--serve-bin PATH]
//	                     [--only ingest,pages,normal,tv,baselines,load] [--cpuprofile FILE]
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "opsreview-bench:", err)
		}
		os.Exit(1)
	}
}

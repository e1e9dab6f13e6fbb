// Command opsreview collects alert history from Prometheus and Alertmanager into Postgres and serves
// the weekly Operational Review Meeting. main only turns signals into a cancelled context; run does
// the work.
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
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "opsreview:", err)
		os.Exit(1)
	}
}

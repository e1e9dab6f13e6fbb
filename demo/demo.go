// Package demo owns opsreview's demo data: eight weeks of made-up but realistic history for three
// teams, written through the same store methods the webhook and the collectors use, so that demo
// data looks exactly like real data. A fill is recorded in the database (demo_runs), which is how
// every page knows to say "demo data", and how a second fill knows to write nothing.
package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
)

// DefaultSeed is the seed of `opsreview demo` and of a first run without a config file.
const DefaultSeed int64 = 1

// Summary says what a fill wrote (or, with AlreadyFilled, that an earlier fill of the same seed had
// written everything and nothing was written).
type Summary struct {
	Seed          int64
	Anchor        time.Time // the demo history ends here: the fill's "now"
	AlreadyFilled bool
	Rules         int
	Notifications int // webhook deliveries stored
	Pages         int // of those, firing notifications to a paging receiver with a new episode
	Reports       int // alert reports from the Prometheus and Alertmanager roads
	Episodes      int // episodes in the database after the fill
	Silences      int
	Verdicts      int
	ActionItems   int
	Changes       int
	ToilEntries   int
	RunbookChecks int
	SLIs          int
	SLISamples    int // SLI samples stored (gaps included); 0 when every SLI was already filled
}

// Fill writes the demo history ending at now (truncated to the minute) from seed, unless the
// database already holds a finished fill of that seed. An interrupted fill is finished with the
// anchor it started with: the same rows come out, and the store's identity rules (episodes by
// fingerprint and interval, notifications by dedup key, idempotency keys) make what was already
// written a no-op. cfg decides teams and paging receivers; the history is written for Config().
func Fill(ctx context.Context, st *store.Store, cfg *config.Config, now time.Time, seed int64) (Summary, error) {
	if st == nil || cfg == nil {
		return Summary{}, errors.New("demo: Fill needs a store and a config")
	}
	run, err := st.BeginDemoRun(ctx, seed, now.UTC().Truncate(time.Minute), now.UTC())
	if err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	sum := Summary{Seed: seed, Anchor: run.Anchor, AlreadyFilled: run.Completed()}
	if run.Completed() {
		return sum, nil
	}
	if err := write(ctx, st, cfg, generate(cfg, run.Anchor, seed), &sum); err != nil {
		return sum, fmt.Errorf("demo: %w", err)
	}
	if err := st.CompleteDemoRun(ctx, seed, now.UTC()); err != nil {
		return sum, fmt.Errorf("demo: %w", err)
	}
	return sum, nil
}

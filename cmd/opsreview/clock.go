package main

import (
	"fmt"
	"os"
	"time"
)

// clockOffsetEnv moves opsreview's own clock, for tests only: the reliability suite runs `serve`
// with its clock 15 minutes ahead of or behind Prometheus and Alertmanager (libfaketime has no
// effect on Go binaries). It takes a Go duration ("15m", "-15m"). Never set it in production.
const clockOffsetEnv = "OPSREVIEW_CLOCK_OFFSET"

// clock returns opsreview's clock: time.Now, moved by OPSREVIEW_CLOCK_OFFSET when that is set.
func clock() (func() time.Time, error) {
	v := os.Getenv(clockOffsetEnv)
	if v == "" {
		return time.Now, nil
	}
	off, err := time.ParseDuration(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", clockOffsetEnv, err)
	}
	return func() time.Time { return time.Now().Add(off) }, nil
}

package server

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// A page whose loads run together fails with the load that failed, the loads still running are
// told to stop, and the page is not left with a load still writing into it.
func TestTogetherReturnsTheFailureAndStopsTheOthers(t *testing.T) {
	boom := errors.New("reading the pages: connection refused")
	var finished atomic.Int32
	err := together(context.Background(),
		func(ctx context.Context) error { return boom },
		func(ctx context.Context) error {
			defer finished.Add(1)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Minute):
				return errors.New("not told to stop")
			}
		},
		func(ctx context.Context) error { finished.Add(1); return nil },
	)
	if !errors.Is(err, boom) {
		t.Fatalf("together returned %v, want the failed load's error", err)
	}
	if n := finished.Load(); n != 2 {
		t.Errorf("together returned with %d of 2 other loads finished", n)
	}
	var a, b int
	if err := together(context.Background(),
		func(context.Context) error { a = 1; return nil },
		func(context.Context) error { b = 2; return nil }); err != nil || a != 1 || b != 2 {
		t.Errorf("together of two loads that succeed: err %v, results %d %d", err, a, b)
	}
}

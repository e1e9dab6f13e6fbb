package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestKeyedLockSerialisesOneKeyOnly(t *testing.T) {
	var k keyedLock
	ctx := context.Background()
	unlockA, err := k.lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is free.
	unlockB, err := k.lock(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	unlockB()
	// The same key waits until released, or until its context ends.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := k.lock(short, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second holder of a taken key got %v, want to wait until its context ended", err)
	}
	got := make(chan struct{})
	go func() {
		unlock, err := k.lock(ctx, "a")
		if err == nil {
			unlock()
		}
		close(got)
	}()
	unlockA()
	<-got
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.slots) != 0 {
		t.Fatalf("%d keys left behind after every holder released", len(k.slots))
	}
}

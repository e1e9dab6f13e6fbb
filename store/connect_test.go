package store

import (
	"context"
	"testing"
)

// Every connection runs without JIT compilation, on the primary's pool and on the page reads'.
func TestConnectionsRunWithoutJIT(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	for name, db := range map[string]interface {
		GetContext(context.Context, any, string, ...any) error
	}{"primary": s.db, "reads": s.read} {
		var jit string
		if err := db.GetContext(ctx, &jit, `SHOW jit`); err != nil {
			t.Fatal(err)
		}
		if jit != "off" {
			t.Errorf("%s pool: jit = %s, want off", name, jit)
		}
	}
}

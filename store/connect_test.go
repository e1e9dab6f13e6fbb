package store

import (
	"context"
	"testing"
)

// Every connection runs without JIT compilation and with 32 MB to sort in, on the primary's pool
// and on the page reads'.
func TestConnectionsSettings(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	for name, db := range map[string]interface {
		GetContext(context.Context, any, string, ...any) error
	}{"primary": s.db, "reads": s.read} {
		for setting, want := range map[string]string{"jit": "off", "work_mem": "32MB"} {
			var got string
			if err := db.GetContext(ctx, &got, `SELECT current_setting($1)`, setting); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s pool: %s = %s, want %s", name, setting, got, want)
			}
		}
	}
}

package store

import (
	"context"
	"testing"

	"github.com/opsreview/opsreview/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// newTestStore opens a migrated store on a database of its own.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), storetest.NewURL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	return s
}

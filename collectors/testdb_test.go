package collectors

import (
	"context"
	"os"
	"testing"

	"github.com/opsreview/opsreview/store"
	"github.com/opsreview/opsreview/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// newTestStore opens a migrated store on a database of its own, and returns the database's URL
// for tests that open a second store on it (a second opsreview instance).
func newTestStore(t testing.TB) (*store.Store, string) {
	t.Helper()
	url := storetest.NewURL(t)
	s, err := store.Open(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	return s, url
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/fixtures/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package storetest

import "testing"

// Cluster is a private Postgres server owned by one test, for outage tests:
// the test stops and starts it while the code under test holds connections.
// Its methods must be called from the test's goroutine.
type Cluster struct {
	tb testing.TB
	c  *pgCluster
}

// NewCluster initialises and starts a private cluster on a free loopback
// port. Superuser postgres connects without a password; database postgres
// exists and is empty. The cluster is stopped and deleted when the test ends.
func NewCluster(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := startCluster()
	if err != nil {
		tb.Fatalf("storetest: start private cluster: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("storetest: private cluster log (tail):\n%s", c.logTail())
		}
		if err := c.destroy(); err != nil {
			tb.Errorf("storetest: remove private cluster: %v", err)
		}
	})
	return &Cluster{tb: tb, c: c}
}

// URL returns the connection URL of database db on the cluster, as superuser
// postgres. It stays valid across Stop and Start.
func (c *Cluster) URL(db string) string { return c.c.url(db) }

// Stop kills the server at once (pg_ctl stop -m immediate), as a crash
// would: open connections break and new ones are refused.
func (c *Cluster) Stop() {
	c.tb.Helper()
	if err := c.c.stop(); err != nil {
		c.tb.Fatalf("storetest: stop private cluster: %v", err)
	}
}

// Start starts a stopped server again on the same port with the same data,
// and returns once it accepts connections.
func (c *Cluster) Start() {
	c.tb.Helper()
	if err := c.c.start(); err != nil {
		c.tb.Fatalf("storetest: restart private cluster: %v", err)
	}
}

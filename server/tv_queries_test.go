package server

import (
	"encoding/binary"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/opsreview/opsreview/store/storetest"
)

// statementCounter is a TCP proxy in front of Postgres that counts the statements clients send
// (simple-protocol Query and extended-protocol Execute messages) while counting is on: what a
// page costs the database, measured on the wire, whatever the code in between does.
type statementCounter struct {
	ln       net.Listener
	target   string
	on       atomic.Bool
	n        atomic.Int64
	wg       sync.WaitGroup
	closeAll sync.Once
	mu       sync.Mutex
	conns    []net.Conn
}

// newStatementCounter proxies the database of dsn and returns the proxy's URL for it.
func newStatementCounter(t *testing.T, dsn string) (*statementCounter, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" || u.Host == "" {
		t.Skipf("the test database is not given as a postgres:// URL: %v", err)
	}
	if u.Query().Get("sslmode") != "disable" {
		t.Skip("counting statements needs sslmode=disable (the proxy reads the protocol)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sc := &statementCounter{ln: ln, target: u.Host}
	sc.wg.Add(1)
	go sc.accept()
	t.Cleanup(sc.close)
	u.Host = ln.Addr().String()
	return sc, u.String()
}

func (sc *statementCounter) accept() {
	defer sc.wg.Done()
	for {
		c, err := sc.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", sc.target)
		if err != nil {
			c.Close()
			continue
		}
		sc.mu.Lock()
		sc.conns = append(sc.conns, c, s)
		sc.mu.Unlock()
		go func() { io.Copy(c, s); c.Close() }()
		go func() { sc.pipe(c, s); s.Close() }()
	}
}

// pipe forwards client messages to the server, counting statements.
func (sc *statementCounter) pipe(c, s net.Conn) {
	// The startup message has no type byte; an SSLRequest is answered "N" and followed by it.
	for {
		var l [4]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(l[:])-4)
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		if _, err := s.Write(append(l[:], body...)); err != nil {
			return
		}
		if len(body) != 4 || binary.BigEndian.Uint32(body) != 80877103 { // not an SSLRequest
			break
		}
	}
	for {
		var h [5]byte
		if _, err := io.ReadFull(c, h[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(h[1:])-4)
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		if (h[0] == 'Q' || h[0] == 'E') && sc.on.Load() {
			sc.n.Add(1)
		}
		if _, err := s.Write(append(h[:], body...)); err != nil {
			return
		}
	}
}

// count runs fn with counting on and returns the statements it cost.
func (sc *statementCounter) count(fn func()) int64 {
	sc.n.Store(0)
	sc.on.Store(true)
	fn()
	sc.on.Store(false)
	return sc.n.Load()
}

func (sc *statementCounter) close() {
	sc.closeAll.Do(func() {
		sc.ln.Close()
		sc.mu.Lock()
		for _, c := range sc.conns {
			c.Close()
		}
		sc.mu.Unlock()
		sc.wg.Wait()
	})
}

// TestFiftyTVsCostWhatOneTVCosts: the TV rule of issue 6 — a panel costs one load per refresh
// interval however many screens show it. One screen, then fifty screens at once, poll every panel
// in fresh intervals; the statements Postgres receives are counted on the wire and must be the same,
// and polling again within the interval must cost nothing.
func TestFiftyTVsCostWhatOneTVCosts(t *testing.T) {
	counter, proxied := newStatementCounter(t, storetest.NewURL(t))
	ts := tvServer(t, proxied)
	seedTVWeek(t, ts)
	panels := []string{"firing", "slis", "pages", "noisiest", "toil", "runbooks", "freshness"}
	poll := func(screens int, panel string) {
		var wg sync.WaitGroup
		for range screens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := ts.send(t, getReq("/tv/panel/"+panel+"?team=payments"))
				if r.status != 200 {
					t.Errorf("panel %s: %d %s", panel, r.status, r.body)
				}
			}()
		}
		wg.Wait()
	}
	// cost polls every panel from the given number of screens in a new refresh interval.
	cost := func(screens int) map[string]int64 {
		ts.setNow(ts.now.Add(tvRunbooksRefresh)) // every fragment is due for a refresh, the slowest too
		out := map[string]int64{}
		for _, p := range panels {
			// The refresh runs in the background of the request that started it: wait for it.
			out[p] = counter.count(func() { poll(screens, p); ts.tv.cache.wait() })
		}
		if n := counter.count(func() {
			for _, p := range panels {
				poll(screens, p)
			}
		}); n != 0 {
			t.Errorf("%d screens polling again within the interval cost %d statements, want 0", screens, n)
		}
		return out
	}
	one := cost(1)
	for round := range 2 {
		fifty := cost(50)
		for _, p := range panels {
			if fifty[p] != one[p] || one[p] == 0 {
				t.Errorf("round %d: panel %s cost %d statements for 50 screens, %d for one: want the same, one load", round, p, fifty[p], one[p])
			}
		}
		t.Logf("statements per refresh of each panel (the first also refreshes the shared source states), 50 screens: %v", fifty)
	}
}

package collectors

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// canary is a TCP listener standing for a service inside the network: it counts every
// connection that reaches it.
type canary struct {
	port string
	hits atomic.Int64
}

func newCanary(t *testing.T) *canary {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &canary{}
	_, c.port, _ = net.SplitHostPort(ln.Addr().String())
	listeners := []net.Listener{ln}
	if ln6, err := net.Listen("tcp", "[::1]:"+c.port); err == nil { // the same port on IPv6 loopback, where there is one
		listeners = append(listeners, ln6)
	}
	for _, l := range listeners {
		go func() {
			for {
				conn, err := l.Accept()
				if err != nil {
					return
				}
				c.hits.Add(1)
				conn.Close()
			}
		}()
		t.Cleanup(func() { l.Close() })
	}
	return c
}

// legacyResolver resolves every spelling of an IPv4 address that glibc's inet_aton accepts
// (2130706433, 0177.0.0.1, 0x7f000001, 127.1…), as a system resolver would, plus a table of
// names; anything else goes to the real resolver (localhost from /etc/hosts).
type legacyResolver map[string][]netip.Addr

func (r legacyResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, ok := r[strings.ToLower(strings.TrimSuffix(host, "."))]; ok {
		return a, nil
	}
	if a, ok := inetAton(host); ok {
		return []netip.Addr{a}, nil
	}
	return net.DefaultResolver.LookupNetIP(ctx, network, host)
}

// inetAton parses a.b.c.d, a.b.c, a.b and a with decimal, octal (0…) and hex (0x…) parts.
func inetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals []uint64
	for _, p := range parts {
		v, err := strconv.ParseUint(p, 0, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals = append(vals, v)
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*i)
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func TestInetAtonSpellings(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "2130706433", "0177.0.0.1", "0x7f000001", "127.1", "0x7f.1", "017700000001", "127.0.1"} {
		if a, ok := inetAton(s); !ok || a != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("inetAton(%q) = %v %v", s, a, ok)
		}
	}
}

// TestSecuritySSRFCorpusReachesNoCanary is scenario 9's SSRF corpus: every way to spell an inside
// address, names that resolve inside, redirects from an allowed outside host to inside ones, odd
// ports and other schemes. Every check fails without an answer, and the canary listener on the
// loopback sees no connection.
func TestSecuritySSRFCorpusReachesNoCanary(t *testing.T) {
	cn := newCanary(t)
	p := cn.port
	inside := []string{
		"http://127.0.0.1:" + p + "/", "HTTP://127.0.0.1:" + p + "/", "http://127.8.9.10:" + p + "/",
		"http://[::1]:" + p + "/", "http://[0:0:0:0:0:0:0:1]:" + p + "/",
		"http://[::ffff:127.0.0.1]:" + p + "/", "http://[::ffff:7f00:1]:" + p + "/", "http://[64:ff9b::7f00:1]:" + p + "/",
		"http://2130706433:" + p + "/", "http://0177.0.0.1:" + p + "/", "http://0x7f000001:" + p + "/", "http://0x7f.0.0.1:" + p + "/",
		"http://017700000001:" + p + "/", "http://127.1:" + p + "/", "http://127.0.1:" + p + "/",
		"http://0:" + p + "/", "http://0.0.0.0:" + p + "/", "http://[::]:" + p + "/",
		"http://localhost:" + p + "/", "http://LocalHost:" + p + "/", "http://inside.example:" + p + "/",
		"http://rebind.example:" + p + "/", "http://public-and-v6-inside.example:" + p + "/",
		"http://outside.example@127.0.0.1:" + p + "/", "http://user:pass@localhost:" + p + "/",
		"http://10.0.0.1/", "http://10.255.255.255:8080/", "http://172.16.0.1/", "http://172.31.255.254/", "http://192.168.1.1/",
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://[::ffff:169.254.169.254]/", "http://[fd00:ec2::254]/",
		"http://metadata.google.internal/computeMetadata/v1/", "http://100.100.100.200/latest/meta-data/",
		"http://[fe80::1]/", "http://[fe80::1%25lo]:" + p + "/", "http://[fc00::1]/", "http://[fd12:3456::1]/", "http://100.64.0.1/",
		"http://127.0.0.1:22/", "http://127.0.0.1:25/", "http://127.0.0.1:5432/", "http://127.0.0.1:6379/", "http://[::1]:5432/",
		"http://127.0.0.1:0/", "http://127.0.0.1:65535/",
	}
	schemes := []string{
		"file:///etc/passwd", "FILE:///etc/passwd", "gopher://127.0.0.1:" + p + "/_GET%20/", "ftp://127.0.0.1:" + p + "/",
		"dict://127.0.0.1:" + p + "/info", "ldap://127.0.0.1:" + p + "/", "ws://127.0.0.1:" + p + "/", "jar:http://127.0.0.1:" + p + "!/",
		"netdoc:///etc/passwd", "//127.0.0.1:" + p + "/", "127.0.0.1:" + p,
	}
	r := legacyResolver{
		"inside.example":               {netip.MustParseAddr("127.0.0.1")},
		"rebind.example":               {netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("127.0.0.1")},
		"public-and-v6-inside.example": {netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("::1")},
		"metadata.google.internal":     {netip.MustParseAddr("169.254.169.254")},
		"outside.example":              {netip.MustParseAddr("127.0.0.1")}, // allowed by name: the "outside" wiki
	}
	ctx := context.Background()
	check := newTestChecker(t, []string{"outside.example"}, r)

	for _, u := range append(append([]string(nil), inside...), schemes...) {
		res := check.check(ctx, u)
		if res.StatusCode != 0 || res.Error == "" {
			t.Errorf("%s: %+v, want it refused", u, res)
		}
		t.Logf("%s: %s", u, res.Error)
	}

	// An allowed outside host that redirects inside, once per inside address, with each
	// redirect status.
	var outsideHits atomic.Int64
	target, status := "", http.StatusFound
	outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		outsideHits.Add(1)
		w.Header().Set("Location", target)
		w.WriteHeader(status)
	}))
	defer outside.Close()
	from := hostURL(t, outside.URL, "outside.example")
	redirects := append(append([]string(nil), inside...), schemes...)
	for i, u := range redirects {
		target = u
		status = []int{301, 302, 303, 307, 308}[i%5]
		res := check.check(ctx, from+"/runbook")
		if res.StatusCode != 0 || res.Error == "" {
			t.Errorf("redirect to %s: %+v, want it refused", u, res)
		}
	}
	if outsideHits.Load() == 0 {
		t.Fatal("the outside server was never reached: the redirect cases prove nothing")
	}

	if n := cn.hits.Load(); n != 0 {
		t.Errorf("the canary inside saw %d connections, want 0", n)
	}

	// The control: allow-listed, the canary is reachable, so the count above would have seen it.
	allow := newTestChecker(t, []string{"127.0.0.1"}, r)
	allow.check(ctx, fmt.Sprintf("http://127.0.0.1:%s/", p))
	if cn.hits.Load() == 0 {
		t.Error("an allow-listed request did not reach the canary: the canary is deaf")
	}
}

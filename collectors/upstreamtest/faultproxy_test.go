package upstreamtest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// echoServer answers every line with the same line, upper-cased.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := io.WriteString(c, strings.ToUpper(l)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line over c and reads the answer, within a deadline.
func roundTrip(c net.Conn, line string, within time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(within))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestFaultProxyPassesThrough(t *testing.T) {
	p := NewFaultProxy(t, echoServer(t))
	c := dial(t, p.Addr)
	for _, w := range []string{"hello", "again"} {
		if got, err := roundTrip(c, w, 5*time.Second); err != nil || got != strings.ToUpper(w) {
			t.Fatalf("through the proxy %q came back as %q (%v)", w, got, err)
		}
	}
}

func TestFaultProxyResetAllBreaksOpenConnections(t *testing.T) {
	p := NewFaultProxy(t, echoServer(t))
	c := dial(t, p.Addr)
	if _, err := roundTrip(c, "x", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p.ResetAll()
	_, err := roundTrip(c, "y", 5*time.Second)
	if err == nil {
		t.Fatal("an open connection still answered after ResetAll")
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) && !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("after ResetAll the client saw %v, want a reset", err)
	}
	// New connections still work.
	if got, err := roundTrip(dial(t, p.Addr), "z", 5*time.Second); err != nil || got != "Z" {
		t.Fatalf("a new connection after ResetAll: %q %v", got, err)
	}
}

func TestFaultProxyRefusesThenPassesAgain(t *testing.T) {
	p := NewFaultProxy(t, echoServer(t))
	open := dial(t, p.Addr)
	p.Refuse()
	if _, err := net.DialTimeout("tcp", p.Addr, 2*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dialing a refusing proxy: %v, want connection refused", err)
	}
	if _, err := roundTrip(open, "x", 5*time.Second); err == nil {
		t.Fatal("a connection opened before Refuse still answered")
	}
	if err := p.Pass(); err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(dial(t, p.Addr), "back", 5*time.Second); err != nil || got != "BACK" {
		t.Fatalf("after Pass: %q %v", got, err)
	}
}

func TestFaultProxyBlackholeNeverAnswers(t *testing.T) {
	p := NewFaultProxy(t, echoServer(t))
	p.Blackhole()
	c := dial(t, p.Addr) // accepted
	_, err := roundTrip(c, "anyone there", 300*time.Millisecond)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("a blackholed connection gave %v, want a timeout", err)
	}
	if err := p.Pass(); err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(dial(t, p.Addr), "ok", 5*time.Second); err != nil || got != "OK" {
		t.Fatalf("after Pass: %q %v", got, err)
	}
}

func TestFaultProxyLatencyDelaysEveryChunk(t *testing.T) {
	p := NewFaultProxy(t, echoServer(t))
	c := dial(t, p.Addr)
	p.Latency(150 * time.Millisecond)
	began := time.Now()
	if got, err := roundTrip(c, "slow", 5*time.Second); err != nil || got != "SLOW" {
		t.Fatalf("with latency: %q %v", got, err)
	}
	// Both directions are delayed: the answer cannot come back sooner than twice the latency.
	if took := time.Since(began); took < 300*time.Millisecond {
		t.Fatalf("a round trip with 150ms each way took %v", took)
	}
}

func TestFaultProxyCutsAfterNBytes(t *testing.T) {
	p := NewFaultProxy(t, echoServer(t))
	p.CutAfter(10) // "abc\n" out and "ABC\n" back is 8; the next line crosses 10
	c := dial(t, p.Addr)
	if got, err := roundTrip(c, "abc", 5*time.Second); err != nil || got != "ABC" {
		t.Fatalf("within the budget: %q %v", got, err)
	}
	if got, err := roundTrip(c, "defgh", 5*time.Second); err == nil {
		t.Fatalf("past the budget the connection still answered %q", got)
	}
}

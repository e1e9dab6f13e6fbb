package upstreamtest

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// FaultProxy is a TCP proxy on loopback that sits between opsreview and one server (Postgres,
// Prometheus, Alertmanager) and injects faults on command: it resets every open connection,
// refuses new ones, adds latency, accepts connections it never answers (a blackhole), or cuts
// each connection after some bytes. It passes everything through until told otherwise. Its
// methods are safe for concurrent use; it is closed when the test ends.
//
// It is a few hundred lines of our own rather than toxiproxy's Go library: that needs its own
// server process or a large dependency tree, and these tests need only the faults above, driven
// from the test's goroutine.
type FaultProxy struct {
	// Addr is the proxy's "host:port"; point the client here instead of at the server.
	Addr     string
	upstream string

	mu        sync.Mutex
	ln        net.Listener // nil while refusing
	latency   time.Duration
	blackhole bool
	cutAfter  int64 // > 0: close each new connection after this many bytes, both ways together
	conns     map[*proxied]struct{}
	resets    uint64 // ResetAll calls so far: a connection accepted before one is reset when it gets tracked
	closed    bool
	wg        sync.WaitGroup
	accepted  int64
}

// proxied is one client connection and its upstream connection (nil in the blackhole).
type proxied struct {
	client, server net.Conn
	resets         uint64 // the proxy's resets when it was accepted
}

// NewFaultProxy starts a pass-through proxy to upstream ("host:port") on a free loopback port.
func NewFaultProxy(tb testing.TB, upstream string) *FaultProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("upstreamtest: fault proxy: %v", err)
	}
	p := &FaultProxy{Addr: ln.Addr().String(), upstream: upstream, ln: ln, conns: map[*proxied]struct{}{}}
	p.wg.Add(1)
	go p.serve(ln)
	tb.Cleanup(p.close)
	return p
}

// Pass ends every fault: new connections are accepted and passed through at once. Connections
// cut or reset before stay gone; a refusing proxy listens again on the same port.
func (p *FaultProxy) Pass() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency, p.blackhole, p.cutAfter = 0, false, 0
	return p.listenLocked()
}

// ResetAll resets every open connection (the client reads ECONNRESET), as a crashed server or a
// dropped NAT entry would; new connections are still accepted.
func (p *FaultProxy) ResetAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = map[*proxied]struct{}{}
	p.resets++
	p.mu.Unlock()
	for c := range conns {
		c.reset()
	}
}

// Refuse resets every open connection and stops listening, so new connections are refused
// (ECONNREFUSED), as when the server is down. Pass listens again.
func (p *FaultProxy) Refuse() {
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	p.mu.Unlock()
	p.ResetAll()
}

// Latency delays every chunk of data, in both directions, by d (0: none), on open and new
// connections alike.
func (p *FaultProxy) Latency(d time.Duration) {
	p.mu.Lock()
	p.latency = d
	p.mu.Unlock()
}

// Blackhole makes new connections hang: they are accepted and read, but never reach the server
// and never get an answer, as behind a firewall that drops packets. Open connections are left.
func (p *FaultProxy) Blackhole() {
	p.mu.Lock()
	p.blackhole = true
	p.mu.Unlock()
}

// CutAfter closes each new connection once n bytes have passed through it, both directions
// counted together, as a connection dropped mid-answer.
func (p *FaultProxy) CutAfter(n int64) {
	p.mu.Lock()
	p.cutAfter = n
	p.mu.Unlock()
}

// Accepted counts the connections accepted so far.
func (p *FaultProxy) Accepted() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// listenLocked listens on Addr again when refusing.
func (p *FaultProxy) listenLocked() error {
	if p.ln != nil || p.closed {
		return nil
	}
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.Addr); err == nil {
			p.ln = ln
			p.wg.Add(1)
			go p.serve(ln)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("fault proxy: listen on %s again: %w", p.Addr, err)
}

func (p *FaultProxy) serve(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.accepted++
		blackhole, cut, closed, resets := p.blackhole, p.cutAfter, p.closed, p.resets
		p.mu.Unlock()
		if closed {
			_ = c.Close()
			return
		}
		p.wg.Add(1)
		go p.handle(c, blackhole, cut, resets)
	}
}

// handle connects a client to the server (or swallows it) and copies both ways until either
// side closes, the byte budget runs out, or the connection is reset.
func (p *FaultProxy) handle(client net.Conn, blackhole bool, cut int64, resets uint64) {
	defer p.wg.Done()
	c := &proxied{client: client, resets: resets}
	if blackhole {
		if !p.track(c) {
			return
		}
		_, _ = io.Copy(io.Discard, client)
		p.untrack(c)
		_ = client.Close()
		return
	}
	server, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		c.reset()
		return
	}
	c.server = server
	if !p.track(c) {
		return
	}
	budget := &budget{left: cut}
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client, budget); done <- struct{}{} }()
	go func() { p.pipe(client, server, budget); done <- struct{}{} }()
	<-done
	// One side ended: end both, so the other copy returns too.
	_ = client.Close()
	_ = server.Close()
	<-done
	p.untrack(c)
}

// budget is the bytes a connection may still pass, shared by its two directions; unlimited when
// left starts at zero.
type budget struct {
	mu      sync.Mutex
	limited bool
	left    int64
	init    bool
}

// take returns how many of n bytes may pass and whether the connection must be cut afterwards.
func (b *budget) take(n int) (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.init {
		b.init, b.limited = true, b.left > 0
	}
	if !b.limited {
		return n, false
	}
	if int64(n) >= b.left {
		k := int(b.left)
		b.left = 0
		return k, true
	}
	b.left -= int64(n)
	return n, false
}

// pipe copies from src to dst chunk by chunk, applying latency and the byte budget.
func (p *FaultProxy) pipe(dst, src net.Conn, b *budget) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			delay := p.latency
			p.mu.Unlock()
			if delay > 0 {
				time.Sleep(delay)
			}
			k, cut := b.take(n)
			if k > 0 {
				if _, werr := dst.Write(buf[:k]); werr != nil {
					return
				}
			}
			if cut {
				resetConn(dst)
				resetConn(src)
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *FaultProxy) track(c *proxied) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || c.resets != p.resets {
		// Closed, or accepted before a ResetAll (or Refuse) that could not see it yet.
		c.reset()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *FaultProxy) untrack(c *proxied) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// reset closes both ends with SO_LINGER 0, so each peer gets a RST rather than a clean EOF.
func (c *proxied) reset() {
	resetConn(c.client)
	if c.server != nil {
		resetConn(c.server)
	}
}

func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// close stops listening, resets every connection and waits for the copies to end.
func (p *FaultProxy) close() {
	p.mu.Lock()
	p.closed = true
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	p.mu.Unlock()
	p.ResetAll()
	p.wg.Wait()
}

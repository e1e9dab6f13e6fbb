package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// TestSecuritySlowClientsDoNotStarveThePages opens slow-loris connections (100; 1,000 under
// OPSREVIEW_SOAK=1): some send nothing, some a request line and then headers a byte at a time,
// some a complete header and then a body that never comes. While they hang, pages asked for on
// new connections still answer.
func TestSecuritySlowClientsDoNotStarveThePages(t *testing.T) {
	ts := newTestServer(t, "", nil)
	cfg := ts.App().Config()
	if cfg.ReadTimeout <= 0 || cfg.WriteTimeout <= 0 || cfg.IdleTimeout <= 0 || cfg.ReadBufferSize <= 0 {
		t.Fatalf("server timeouts: read %v, write %v, idle %v, header limit %d; all must be set",
			cfg.ReadTimeout, cfg.WriteTimeout, cfg.IdleTimeout, cfg.ReadBufferSize)
	}
	base := serve(t, ts.App())
	addr := strings.TrimPrefix(base, "http://")

	n := 100
	if os.Getenv("OPSREVIEW_SOAK") != "" {
		n = 1000
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	conns := make([]net.Conn, 0, n)
	for i := range n {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("slow client %d: %v", i, err)
		}
		conns = append(conns, conn)
		switch i % 3 {
		case 0: // connects, says nothing
		case 1: // headers a byte at a time
			wg.Add(1)
			go func() {
				defer wg.Done()
				msg := "GET /episodes HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 10_000)
				for j := 0; j < len(msg); j++ {
					if _, err := conn.Write([]byte{msg[j]}); err != nil {
						return
					}
					select {
					case <-ctx.Done():
						return
					case <-time.After(200 * time.Millisecond):
					}
				}
			}()
		case 2: // a whole header, then a body that never comes
			fmt.Fprintf(conn, "POST /api/v1/alertmanager/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{")
		}
	}
	t.Cleanup(func() {
		cancel()
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	})

	client := &http.Client{Timeout: 30 * time.Second} // a generous deadline, not a measurement
	for _, path := range []string{"/healthz", "/episodes", "/review", "/tv", "/api/v1/episodes"} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s with %d slow clients hanging: %v", path, n, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s with %d slow clients hanging: %d", path, n, resp.StatusCode)
		}
	}
}

// TestSecurityOversizeHeadersAreRefused: a request whose headers pass the limit is answered 431
// (or the connection closed) without reaching a handler; one within it is served.
func TestSecurityOversizeHeadersAreRefused(t *testing.T) {
	ts := newTestServer(t, "", nil)
	base := serve(t, ts.App())
	get := func(size int) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
		req.Header.Set("X-Big", strings.Repeat("a", size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get(8 << 10); err != nil || code != 200 {
		t.Errorf("an 8 KiB header: %d %v, want 200", code, err)
	}
	if code, err := get(64 << 10); err == nil && code != fiber.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 64 KiB header: %d, want 431", code)
	}
}

// TestSecurityPanicIsA500NotACrash: a handler that panics answers the error page (its message
// and the panic value unseen) and the server goes on serving.
func TestSecurityPanicIsA500NotACrash(t *testing.T) {
	ts := newTestServer(t, "", nil)
	var logs strings.Builder
	ts.log = slog.New(slog.NewTextHandler(&logs, nil))
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ErrorHandler: ts.handleError})
	app.Use(ts.recoverPanics, ts.securityHeaders)
	app.Get("/boom", func(c *fiber.Ctx) error { panic("cnry-panic-value") })
	app.Get("/ok", func(c *fiber.Ctx) error { return c.SendString("ok") })
	base := serve(t, app)
	for range 2 {
		resp, err := http.Get(base + "/boom")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 500 || strings.Contains(string(b), "cnry") || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("a panic: %d, CSP %q, %s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), b)
		}
	}
	if resp, err := http.Get(base + "/ok"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after two panics: %v", err)
	}
	if !strings.Contains(logs.String(), "cnry-panic-value") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("the panic was not logged with its stack: %s", logs.String())
	}
}

package server

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"
)

// browserTimeout bounds one test's whole browser session, start-up included.
const browserTimeout = 90 * time.Second

// newBrowser starts headless Chromium (Debian's chromium) for one test and returns the context
// of its first tab; the browser is stopped and its profile removed when the test ends. Without
// chromium the test is skipped, unless OPSREVIEW_REQUIRE_UPSTREAM is set: then it fails.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("OPSREVIEW_REQUIRE_UPSTREAM") != "" {
			t.Fatalf("chromium is required (OPSREVIEW_REQUIRE_UPSTREAM is set): %v", err)
		}
		t.Skipf("chromium not installed (apt-get install chromium): %v", err)
	}
	profile := t.TempDir() // created before the cleanup below, so removed after the browser stops

	// Exactly these flags, set one by one: chromedp's DefaultExecAllocatorOptions and helpers such
	// as Headless or DisableGPU add flags of their own. chromedp itself adds only
	// --remote-debugging-pipe and about:blank. Nothing here lets the browser reach the network.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser process to exit
		cancelTimeout()
	})
	if err := chromedp.Do(tabCtx); err != nil { // starts the browser: fail here, not mid-test
		t.Fatalf("starting chromium: %v", err)
	}
	return tabCtx
}

// screenshot saves a full-page PNG of the tab as <name>.png and logs its path. The file goes to
// $OPSREVIEW_SCREENSHOTS when set (to look at it after the test), else to the test's temp dir.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv("OPSREVIEW_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
	return file
}

// viewport sets the tab's size and colour scheme ("light" or "dark").
func viewport(width, height int64, scheme string, mobile bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		vp := chromedp.EmulateViewport(width, height)
		if mobile {
			vp = chromedp.EmulateViewport(width, height, chromedp.EmulateMobile, chromedp.EmulateScale(2))
		}
		if _, err := vp(ctx, tg); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// cspWatchJS records every CSP violation the page reports. Scripts added over the DevTools
// protocol run before the page's own and are not themselves subject to its CSP.
const cspWatchJS = `window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});`

// pageWatch collects what a tab writes to its console and the CSP violations it reports.
type pageWatch struct {
	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

// watchPage starts recording the tab's console and CSP violations; call it before navigating.
func watchPage(t *testing.T, ctx context.Context) *pageWatch {
	t.Helper()
	w := &pageWatch{}
	messages := chromedp.Console(ctx) // subscribes now, so nothing from the next navigation is lost
	go func() {
		for m, err := range messages {
			if err != nil {
				return // the tab closed at the end of the test
			}
			w.mu.Lock()
			w.messages = append(w.messages, m)
			w.mu.Unlock()
		}
	}()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatchJS})
		return err
	}))
	if err != nil {
		t.Fatalf("installing the CSP watch: %v", err)
	}
	return w
}

// console returns the messages so far.
func (w *pageWatch) console() []chromedp.ConsoleMessage {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), w.messages...)
}

// cspViolations returns the violations the current document reported.
func (w *pageWatch) cspViolations(t *testing.T, ctx context.Context) []string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp || []`))
	if err != nil {
		t.Fatalf("reading CSP violations: %v", err)
	}
	return v
}

// serve runs app on a free port of 127.0.0.1 until the test ends and returns its base URL.
func serve(t *testing.T, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	t.Cleanup(func() {
		if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("stopping the server: %v", err)
		}
		<-done
	})
	return "http://" + ln.Addr().String()
}

package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/static"
)

func TestStaticFiles(t *testing.T) {
	app := fiber.New()
	mountStatic(app)
	for _, tc := range []struct {
		target, contentType string
	}{
		{"/static/app.css", "text/css; charset=utf-8"},
		{"/static/app.js", "text/javascript; charset=utf-8"},
		{"/static/htmx.min.js", "text/javascript; charset=utf-8"},
		{"/static/favicon.svg", "image/svg+xml"},
	} {
		name := strings.TrimPrefix(tc.target, "/static/")
		resp, body := get(t, app, tc.target+"?v="+static.Hash(name))
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("%s: status %d, %d bytes", tc.target, resp.StatusCode, len(body))
		}
		if got := resp.Header.Get("Content-Type"); got != tc.contentType {
			t.Errorf("%s: Content-Type %q, want %q", tc.target, got, tc.contentType)
		}
		if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", tc.target, got)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", tc.target, got)
		}
		// Without the current hash the URL may point at an older file: revalidate it every time.
		for _, v := range []string{"", "?v=0123456789abcdef"} {
			resp, _ := get(t, app, tc.target+v)
			if got := resp.Header.Get("Cache-Control"); resp.StatusCode != http.StatusOK || got != "no-cache" {
				t.Errorf("%s%s: status %d, Cache-Control %q", tc.target, v, resp.StatusCode, got)
			}
			etag := resp.Header.Get("ETag")
			resp, _ = get(t, app, tc.target+v, "If-None-Match", etag)
			if resp.StatusCode != http.StatusNotModified {
				t.Errorf("%s%s with If-None-Match: status %d", tc.target, v, resp.StatusCode)
			}
		}
	}
	for _, target := range []string{"/static/nope.js", "/static/", "/static/embed.go", "/static/VENDOR.md",
		"/static/../go.mod", "/static/%2e%2e/go.mod", "/static/partials/chips.html"} {
		if resp, _ := get(t, app, target); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, resp.StatusCode)
		}
	}
}

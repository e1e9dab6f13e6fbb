package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// securityHeaders sets the headers every response carries, errors and static files included.
// Only /tv may be framed, and only by the origins in tv.frame_ancestors.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	// Links from alerts lead to other hosts; a TV link's URL must never travel in a Referer.
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	if isTVPath(normPath(c)) {
		c.Set(fiber.HeaderContentSecurityPolicy, s.sec.tvCSP)
		if s.sec.tvXFO != "" {
			c.Set(fiber.HeaderXFrameOptions, s.sec.tvXFO)
		}
		return c.Next()
	}
	c.Set(fiber.HeaderContentSecurityPolicy, ContentSecurityPolicy)
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	return c.Next()
}

// tvFramePolicy returns the CSP of /tv, which differs from ContentSecurityPolicy only in its
// frame-ancestors, and the matching X-Frame-Options for old browsers ("" when it cannot say it).
func tvFramePolicy(ancestors []string) (csp, xfo string) {
	list := strings.Join(ancestors, " ")
	if list == "" {
		list = "'self'"
	}
	csp = strings.Replace(ContentSecurityPolicy, "frame-ancestors 'none'", "frame-ancestors "+list, 1)
	switch list {
	case "'self'":
		xfo = "SAMEORIGIN"
	case "'none'":
		xfo = "DENY"
	}
	return csp, xfo
}

// normPath is the request path as the router matches it (case-insensitive, trailing slash
// optional), so that a path check in middleware cannot be dodged by spelling /TV/ for /tv.
func normPath(c *fiber.Ctx) string {
	p := strings.ToLower(c.Path())
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	return p
}

func isTVPath(p string) bool { return p == "/tv" || strings.HasPrefix(p, "/tv/") }

// isTVPanelPath is a TV panel's fragment (tvPanelShow).
func isTVPanelPath(p string) bool { return strings.HasPrefix(p, "/tv/panel/") }

func isAPIPath(p string) bool { return strings.HasPrefix(p, "/api/") }

// webhookPath keeps its own bearer token (webhook.token) and is outside sessions and CSRF.
const webhookPath = "/api/v1/alertmanager/webhook"

// isPublicPath lists what answers without signing in: health, metrics, static files.
func isPublicPath(p string) bool {
	switch p {
	case "/healthz", "/readyz", "/metrics", "/favicon.ico":
		return true
	}
	return strings.HasPrefix(p, "/static/")
}

// isSafeMethod reports whether the method only reads: GET never changes state here.
func isSafeMethod(m string) bool { return m == fiber.MethodGet || m == fiber.MethodHead }

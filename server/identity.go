package server

import (
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// actorLocal is where the auth middleware leaves the signed-in identity.
const actorLocal = "opsreview.actor"

// nameCookie remembers the name a person typed when auth.mode is none, so decisions still say who.
const nameCookie = "opsreview_name"

// actor returns who is making this request, for "decided by" on every decision: the identity the
// auth middleware established, else (auth.mode none) the name the person gave, else "anonymous".
func (s *Server) actor(c *fiber.Ctx) string {
	if v, ok := c.Locals(actorLocal).(string); ok && v != "" {
		return v
	}
	if v := strings.TrimSpace(c.Cookies(nameCookie)); v != "" && len(v) <= 64 && printable(v) {
		return string([]byte(v))
	}
	return "anonymous"
}

// printable reports whether a name from a cookie or a header can be stored and shown as it is:
// valid UTF-8, no control characters (Postgres refuses NUL) and no bidirectional overrides.
func printable(v string) bool {
	return utf8.ValidString(v) && cleanText(v) == v
}

// csrfLocal is where the auth middleware leaves the request's CSRF token for forms to embed.
const csrfLocal = "opsreview.csrf"

// csrfToken returns the CSRF token forms must send back (hidden field csrf_token, or the
// X-CSRF-Token header that static/app.js adds to every htmx request from <meta name="csrf-token">).
func (s *Server) csrfToken(c *fiber.Ctx) string {
	v, _ := c.Locals(csrfLocal).(string)
	return v
}

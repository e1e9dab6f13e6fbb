package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// sessionCookie holds the browser session id: 256 random bits, HttpOnly, SameSite=Lax. The
// session lives only in the cookie: the CSRF token is derived from it, so any instance of a
// stateless web tier can check it without a database row.
const sessionCookie = "opsreview_session"

// csrfField and csrfHeader carry the CSRF token back: hidden form field or htmx header.
const (
	csrfField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
)

// session reads the browser session (minting one for pages) and fills the CSRF local. A TV
// panel's fragment, polled every 10 s by every screen, neither mints a session nor carries a
// token: it has no form, and the TV page it is polled from has set the session already.
func (s *Server) session(c *fiber.Ctx, p *principal, path string) {
	id := c.Cookies(sessionCookie)
	if validSessionID(id) {
		p.session = string([]byte(id))
		if isTVPanelPath(path) {
			return
		}
	} else if !isPublicPath(path) && !isAPIPath(path) && !isTVPanelPath(path) {
		// A new visitor: mint a session, so the page can carry a CSRF token for its forms.
		// Pages only: health checks and scrapers need no cookie.
		id = newSecret(32)
		c.Cookie(&fiber.Cookie{
			Name: sessionCookie, Value: id, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
			Secure: c.Protocol() == "https", MaxAge: int((30 * 24 * time.Hour).Seconds()),
		})
	} else {
		return
	}
	c.Locals(csrfLocal, csrfFor(id))
}

// checkCSRF refuses a browser session's mutating request that is cross-site or lacks the
// session's CSRF token. Machine clients with an API token and the webhook are not sessions.
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	if isSafeMethod(c.Method()) || normPath(c) == webhookPath || principalOf(c).api != nil {
		return c.Next()
	}
	if anon, _ := c.Locals(anonymousClientLocal).(bool); anon {
		return c.Next() // a JSON API call in auth.mode none: no session to bind a token to
	}
	if crossSite(c) {
		return fiber.NewError(fiber.StatusForbidden, "cross-site request refused")
	}
	p := principalOf(c)
	if p.session == "" {
		return fiber.NewError(fiber.StatusForbidden, "no session: reload the page and try again")
	}
	sent := c.Get(csrfHeader)
	if sent == "" {
		sent = c.FormValue(csrfField)
	}
	want := csrfFor(p.session)
	if subtle.ConstantTimeCompare([]byte(sent), []byte(want)) != 1 {
		return fiber.NewError(fiber.StatusForbidden, "missing or wrong CSRF token: reload the page and try again")
	}
	return c.Next()
}

// crossSite reports whether the browser says the request comes from another site: by
// Sec-Fetch-Site when it sends one, else by an Origin whose host is not this one.
func crossSite(c *fiber.Ctx) bool {
	switch c.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default: // same-site, cross-site: a sibling subdomain is another origin too
		return true
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return false // not a browser, or a very old one: the CSRF token still has to match
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return true // "null" and friends: sandboxed frames, data: URLs
	}
	return !strings.EqualFold(u.Host, string(c.Request().Host()))
}

// csrfFor derives a session's CSRF token. The session id is a secret the page's scripts cannot
// read (HttpOnly), so neither can another site compute the token.
func csrfFor(session string) string {
	sum := sha256.Sum256([]byte("opsreview csrf v1\x00" + session))
	return hex.EncodeToString(sum[:])
}

func validSessionID(id string) bool {
	if len(id) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}

// newSecret returns n random bytes, URL-safe base64 without padding.
func newSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

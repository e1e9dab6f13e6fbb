package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/config"
	"github.com/opsreview/opsreview/store"
)

// Access control runs as four middlewares, in this order, before every route (useSecurity):
//
//  1. securityHeaders — headers on every response, errors included.
//  2. authenticate    — who is asking: an API token (Bearer, /api/ only), a TV link (cookie), or a
//     person (auth.mode); fills the actor and CSRF locals and mints the browser session.
//  3. authorize       — may they: public paths for all; a TV link reads only; people sign in
//     unless auth.mode is none.
//  4. checkCSRF       — a browser session's mutating request must be same-origin and carry the
//     session's CSRF token. API-token requests and the webhook skip it.
//
// The webhook (/api/v1/alertmanager/webhook) skips 2–4: it has its own bearer token.

// principalLocal holds the request's *principal for handlers that need more than the actor.
const principalLocal = "opsreview.principal"

// principal is who a request comes from.
type principal struct {
	// user is the signed-in person (proxy, basic), or "" (mode none, or nobody signed in).
	user string
	// api is the API token the request carried (machine clients); nil otherwise.
	api *store.Token
	// tv is set when the request carries a TV link cookie; tvValid says whether that link is
	// still live (not revoked, not expired). A request with the cookie is read-only either way.
	tv      *store.Token
	tvValid bool
	hasTV   bool
	// session is the browser session id the request came with ("" for none).
	session string
}

// principalOf returns the request's principal (never nil).
func principalOf(c *fiber.Ctx) *principal {
	if p, ok := c.Locals(principalLocal).(*principal); ok {
		return p
	}
	return &principal{}
}

// security is the access-control state built from the config at start.
type security struct {
	mode    string
	header  string
	trusted []netip.Prefix
	basic   *basicAuth
	tokens  *tokenChecker
	tvCSP   string
	tvXFO   string
}

func newSecurity(cfg *config.Config, st *store.Store, now func() time.Time) (*security, error) {
	sec := &security{
		mode:   cfg.Auth.Mode,
		header: cfg.Auth.Proxy.Header,
		tokens: newTokenChecker(st, now),
	}
	for _, t := range cfg.Auth.Proxy.Trusted {
		p, err := netip.ParsePrefix(t)
		if err != nil {
			a, aerr := netip.ParseAddr(t)
			if aerr != nil {
				return nil, fmt.Errorf("auth.proxy.trusted: %q: %w", t, err)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		sec.trusted = append(sec.trusted, netip.PrefixFrom(p.Addr().Unmap(), min(p.Bits(), p.Addr().Unmap().BitLen())).Masked())
	}
	var err error
	if sec.basic, err = newBasicAuth(cfg.Auth.Basic.Users); err != nil {
		return nil, err
	}
	sec.tvCSP, sec.tvXFO = tvFramePolicy(cfg.TV.FrameAncestors)
	return sec, nil
}

// useSecurity installs the access-control middlewares; routes() calls it before any route.
func (s *Server) useSecurity(app *fiber.App) error {
	sec, err := newSecurity(s.cfg, s.store, s.now)
	if err != nil {
		return err
	}
	s.sec = sec
	app.Use(s.securityHeaders, s.authenticate, s.authorize, s.checkCSRF)
	return nil
}

// authenticate establishes who is asking. It refuses only a wrong API token; the rest is for
// authorize to decide.
func (s *Server) authenticate(c *fiber.Ctx) error {
	path := normPath(c)
	if path == webhookPath {
		return c.Next()
	}
	p := &principal{}
	c.Locals(principalLocal, p)
	ctx := c.UserContext()

	// Only the API reads a bearer token: a wrong one on a page or a health check changes nothing.
	if bearer, ok := bearerToken(c); ok && isAPIPath(path) {
		tok, err := s.sec.tokens.check(ctx, store.TokenAPI, bearer)
		switch {
		case errors.Is(err, store.ErrUnavailable):
			return err
		case err != nil || !tok.Valid(s.now()):
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="opsreview"`)
			return fiber.NewError(fiber.StatusUnauthorized, "invalid, expired or revoked API token")
		}
		p.api = &tok
		c.Locals(actorLocal, "api:"+tok.Name)
		return c.Next() // a machine: no browser session, no CSRF
	}

	// Public paths (health, static files) answer without reading the TV link: they must work
	// while the database is down.
	if raw := c.Cookies(tvCookie); raw != "" && !isPublicPath(path) {
		p.hasTV = true
		tok, err := s.sec.tokens.check(ctx, store.TokenTV, raw)
		switch {
		case errors.Is(err, store.ErrUnavailable):
			return err // 503: htmx keeps the TV's panels as they are and tv.js shows their age
		case err == nil:
			p.tv, p.tvValid = &tok, tok.Valid(s.now())
		}
	}

	p.user = s.userOf(c)
	if p.user != "" {
		c.Locals(actorLocal, p.user)
	}
	if p.tvValid {
		c.Locals(actorLocal, "tv:"+p.tv.Name)
	}
	s.session(c, p, path)
	return c.Next()
}

// userOf returns the person signed in by auth.mode, or "".
func (s *Server) userOf(c *fiber.Ctx) string {
	switch s.sec.mode {
	case "proxy":
		if !s.sec.trustedPeer(c) {
			return "" // anyone can send the header: believe it only from the proxy
		}
		v := strings.TrimSpace(c.Get(s.sec.header))
		if v == "" || len(v) > 256 || !printable(v) {
			return ""
		}
		return string([]byte(v))
	case "basic":
		user, pass, ok := basicCredentials(c)
		if ok && s.sec.basic.verify(user, pass) {
			return user
		}
	}
	return ""
}

// trustedPeer reports whether the TCP peer (never a forwarded-for header) is a trusted proxy.
func (sec *security) trustedPeer(c *fiber.Ctx) bool {
	addr, ok := c.Context().RemoteAddr().(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(addr.IP)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	for _, p := range sec.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// authorize decides whether the principal may make this request.
func (s *Server) authorize(c *fiber.Ctx) error {
	path := normPath(c)
	if path == webhookPath || isPublicPath(path) {
		return c.Next()
	}
	p := principalOf(c)
	mutating := !isSafeMethod(c.Method())
	switch {
	case p.api != nil:
		if mutating && p.api.Scope == apiScopeRead {
			return fiber.NewError(fiber.StatusForbidden, "this API token is read-only")
		}
		return c.Next()
	case p.hasTV && mutating:
		// Enforced here by method, not per route: no route a TV link reaches can change anything.
		return fiber.NewError(fiber.StatusForbidden, "a TV link is read-only")
	case p.tvValid:
		return c.Next()
	case isTVPath(path) && !mutating && c.Query("token") != "":
		return c.Next() // a TV link's first visit: tvShow exchanges the token for a cookie
	case p.hasTV && isTVPath(path):
		return c.Next() // the TV shows "this screen's access was revoked"
	case isAPIPath(path) && mutating && p.session == "" && s.sec.mode == "none" && isJSONBody(c) && !crossSite(c):
		// auth.mode none lets anyone decide, scripts included. A JSON body cannot come from a
		// cross-site form, and a cross-site fetch of it needs a CORS preflight nobody answers.
		c.Locals(anonymousClientLocal, true)
		return c.Next()
	case isAPIPath(path) && mutating && p.session == "":
		// Not a browser (browsers have a session from the pages they came from): a machine
		// client that forgot its token.
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="opsreview"`)
		return fiber.NewError(fiber.StatusUnauthorized, "an API token is required (Authorization: Bearer <token>)")
	case s.sec.mode == "none" || p.user != "":
		return c.Next()
	}
	if s.sec.mode == "basic" {
		c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="opsreview", charset="UTF-8"`)
	}
	return fiber.NewError(fiber.StatusUnauthorized, "sign in to use opsreview")
}

// anonymousClientLocal marks a JSON API call admitted without a token in auth.mode none.
const anonymousClientLocal = "opsreview.anonymous-client"

// isJSONBody reports whether the request says its body is JSON.
func isJSONBody(c *fiber.Ctx) bool {
	ct := strings.ToLower(strings.TrimSpace(c.Get(fiber.HeaderContentType)))
	return strings.HasPrefix(ct, "application/json")
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(c *fiber.Ctx) (string, bool) {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return string([]byte(tok)), tok != ""
}

// apiScopeRead is the scope of an API token that may only read.
const apiScopeRead = "read"

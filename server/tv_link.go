package server

import (
	"errors"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/store"
)

// tvExchange handles a TV link's first visit, /tv?token=…: a live token becomes an HttpOnly
// cookie and the screen is sent to the same URL without the token, so the token stays out of
// the address bar, the history and (Referrer-Policy: no-referrer) any Referer. A dead token
// shows the revoked notice.
func (s *Server) tvExchange(c *fiber.Ctx) error {
	raw := string([]byte(c.Query("token")))
	now := s.now()
	tok, err := s.sec.tokens.check(c.UserContext(), store.TokenTV, raw)
	if errors.Is(err, store.ErrUnavailable) {
		return err
	}
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	if err != nil || !tok.Valid(now) {
		return s.render.Render(c, fiber.StatusForbidden, "tv", TVView{Now: now, TV: true, Title: "TV", Revoked: true})
	}
	cookie := &fiber.Cookie{
		Name: tvCookie, Value: raw, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: c.Protocol() == "https", MaxAge: int((400 * 24 * time.Hour).Seconds()),
	}
	if tok.ExpiresAt != nil {
		cookie.MaxAge = max(1, int(tok.ExpiresAt.Sub(now).Seconds()))
	}
	c.Cookie(cookie)

	q := url.Values{}
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) {
		if string(k) != "token" {
			q.Add(string(k), string(v))
		}
	})
	if q.Get("team") == "" && tok.Scope != "" {
		q.Set("team", tok.Scope)
	}
	target := "/tv"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Redirect(target, fiber.StatusSeeOther)
}

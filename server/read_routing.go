package server

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/store"
)

// Reads go to the read replica (database.read_url) except where someone must see their own write:
// a mutation and the fragment it answers with read the primary, and so do that browser's page loads
// for freshFor afterwards (a cookie), so a replica that lags a little never makes a decision
// seem to vanish. Every store call of a handler goes through s.st(ctx).

// freshFor is how long after a write a browser's reads stay on the primary: longer than a healthy
// replica lags.
const freshFor = 10 * time.Second

// freshCookie holds, after a write, until when (Unix seconds) that browser reads the primary.
const freshCookie = "opsreview_fresh"

type primaryKey struct{}

// onPrimary marks ctx: the store calls made with it read the primary.
func onPrimary(ctx context.Context) context.Context {
	return context.WithValue(ctx, primaryKey{}, true)
}

func readsPrimary(ctx context.Context) bool { v, _ := ctx.Value(primaryKey{}).(bool); return v }

// st is the store to use for a request's context: the primary view after a write, else the store
// (whose reads go to the replica when there is one).
func (s *Server) st(ctx context.Context) *store.Store {
	if readsPrimary(ctx) {
		return s.store.Primary()
	}
	return s.store
}

// readYourWrites routes a request's reads: a mutation reads the primary (its response shows what
// it wrote) and leaves the cookie; a request with an unexpired cookie reads the primary too.
func (s *Server) readYourWrites(c *fiber.Ctx) error {
	if !s.store.HasReplica() {
		return c.Next()
	}
	mutating := c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead && c.Method() != fiber.MethodOptions
	until, _ := strconv.ParseInt(c.Cookies(freshCookie), 10, 64)
	if mutating || s.now().Unix() < until {
		c.SetUserContext(onPrimary(c.UserContext()))
	}
	err := c.Next()
	if mutating && err == nil && c.Response().StatusCode() < 400 {
		c.Cookie(&fiber.Cookie{Name: freshCookie, Value: strconv.FormatInt(s.now().Add(freshFor).Unix(), 10), Path: "/",
			HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: c.Protocol() == "https", MaxAge: int(freshFor / time.Second)})
	}
	return err
}

package server

import (
	"strings"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"
)

// WhoamiView is the data of the "who am I" page: how opsreview knows the person, and (with
// auth.mode none) a form to give the name that decisions record.
type WhoamiView struct {
	Now      time.Time
	Demo     bool
	Title    string
	Actor    string
	Mode     string
	Via      string // "a TV link", "your proxy", "HTTP Basic", "the name you gave"
	CanName  bool
	CSRF     string
	Saved    bool
	ReadOnly bool
}

// whoamiShow says who opsreview thinks you are.
func (s *Server) whoamiShow(c *fiber.Ctx) error {
	return s.render.Render(c, fiber.StatusOK, "whoami", s.whoamiView(c))
}

// whoamiSave remembers the name a person gives (auth.mode none) in a cookie, so their
// decisions say who made them.
func (s *Server) whoamiSave(c *fiber.Ctx) error {
	if s.sec.mode != "none" {
		return badRequest("names come from sign-in (auth.mode " + s.sec.mode + ")")
	}
	name := strings.TrimSpace(c.FormValue("name"))
	if len(name) > 64 || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) || r == ';' }) >= 0 {
		return badRequest("name: up to 64 printable characters, no semicolon")
	}
	cookie := &fiber.Cookie{Name: nameCookie, Value: name, Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: c.Protocol() == "https", MaxAge: 400 * 24 * 3600}
	if name == "" {
		cookie.MaxAge = -1 // forget it: decisions say "anonymous" again
	}
	c.Cookie(cookie)
	c.Locals(actorLocal, string([]byte(name)))
	v := s.whoamiView(c)
	v.Saved = true
	return s.render.Render(c, fiber.StatusOK, "whoami", v)
}

func (s *Server) whoamiView(c *fiber.Ctx) WhoamiView {
	p := principalOf(c)
	v := WhoamiView{Now: s.now(), Demo: s.cfg.Demo, Title: "Who am I", Actor: s.actor(c), Mode: s.sec.mode,
		CSRF: s.csrfToken(c)}
	switch {
	case p.hasTV:
		v.Via, v.ReadOnly = "a TV link (read-only)", true
	case p.user != "" && s.sec.mode == "proxy":
		v.Via = "your sign-in proxy"
	case p.user != "":
		v.Via = "HTTP Basic sign-in"
	default:
		v.Via, v.CanName = "the name you gave", true
	}
	return v
}

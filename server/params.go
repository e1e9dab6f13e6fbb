package server

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
)

// window reads from= and to= (RFC 3339) with a default span ending now.
func (s *Server) window(c *fiber.Ctx, span time.Duration) (time.Time, time.Time, error) {
	to := s.now().UTC()
	if v := c.Query("to"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, time.Time{}, badRequest("to: want an RFC 3339 time like 2026-11-23T00:00:00Z")
		}
		to = t.UTC()
	}
	from := to.Add(-span)
	if v := c.Query("from"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, time.Time{}, badRequest("from: want an RFC 3339 time like 2026-11-16T00:00:00Z")
		}
		from = t.UTC()
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, badRequest("from must be before to")
	}
	return from, to, nil
}

// teamParam reads team=: nil means every team; "unassigned" selects alerts nobody owns.
func (s *Server) teamParam(c *fiber.Ctx) (*string, error) {
	v := c.Query("team")
	if v == "" {
		return nil, nil
	}
	if v == "unassigned" {
		empty := ""
		return &empty, nil
	}
	if s.cfg.TeamByName(v) == nil {
		return nil, badRequest("team: no team named " + strconv.Quote(v))
	}
	team := string([]byte(v)) // copy: Fiber reuses the request buffer
	return &team, nil
}

func (s *Server) limitParam(c *fiber.Ctx, def, max int) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, badRequest("limit: want a number from 1 to " + strconv.Itoa(max))
	}
	return n, nil
}

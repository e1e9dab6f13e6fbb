package server

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz says the process is up; it never touches the database.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz says the database is reachable and fully migrated.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.st(ctx).Ping(ctx); err != nil {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"error": "database unreachable"})
	}
	ok, err := s.st(ctx).Migrated(ctx)
	if err != nil || !ok {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"error": "database not migrated"})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

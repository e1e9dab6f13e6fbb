package server

import "github.com/gofiber/fiber/v2"

func (s *Server) canRenderPages() bool { return false }

func (s *Server) renderError(c *fiber.Ctx, code int, msg string) error {
	return c.Status(code).JSON(fiber.Map{"error": msg})
}

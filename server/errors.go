package server

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/store"
)

// errBadRequest marks an error caused by the request; its text is shown to the client.
type errBadRequest struct{ msg string }

func (e errBadRequest) Error() string { return e.msg }

func badRequest(msg string) error { return errBadRequest{msg} }

// handleError maps errors to status codes in one place; only server errors are logged.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	code, msg := fiber.StatusInternalServerError, "internal error"
	var fe *fiber.Error
	var br errBadRequest
	switch {
	case errors.As(err, &fe):
		code, msg = fe.Code, fe.Message
	case errors.As(err, &br):
		code, msg = fiber.StatusBadRequest, br.msg
	case errors.Is(err, store.ErrNotFound):
		code, msg = fiber.StatusNotFound, "not found"
	case errors.Is(err, store.ErrUnavailable):
		code, msg = fiber.StatusServiceUnavailable, "database unavailable"
	}
	if code >= 500 {
		s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "status", code, "err", err)
	}
	if strings.HasPrefix(c.Path(), "/api/") {
		return c.Status(code).JSON(fiber.Map{"error": msg})
	}
	if code == fiber.StatusBadRequest {
		// The reason is ours (a parameter that did not parse), never alert text: safe to show.
		v := NewErrorView(code, s.now())
		v.Message = msg
		return s.render.Render(c, code, "error", v)
	}
	return s.render.RenderError(c, code)
}

// errPanic is what a handler's panic becomes: a 500 like any other server error.
var errPanic = errors.New("panic while serving the request")

// recoverPanics turns a panic below it into a 500, logged with its stack, so that one bad request
// cannot stop the server: neither Fiber nor fasthttp recovers on its own. routes() installs it
// before every other middleware.
func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "method", c.Method(), "path", c.Path(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = errPanic
		}
	}()
	return c.Next()
}

package server

import (
	"bytes"
	"fmt"

	"github.com/gofiber/fiber/v2"
)

// RenderBlock sends one named template (a partial) of a page with status: the fragment an htmx
// action asked for, such as a table row after "mark reviewed". Headers are those of Render.
func (r *Renderer) RenderBlock(c *fiber.Ctx, status int, page, block string, data any) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("render: no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		return fmt.Errorf("render %s/%s: %w", page, block, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Vary("HX-Request")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if c.GetRespHeader(fiber.HeaderContentSecurityPolicy) == "" {
		c.Set(fiber.HeaderContentSecurityPolicy, ContentSecurityPolicy)
	}
	return c.Status(status).Send(buf.Bytes())
}

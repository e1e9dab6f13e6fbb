package server

import (
	"bytes"
	"fmt"

	"github.com/gofiber/fiber/v2"
)

// block renders one named template of a page's set (a TV panel, a fragment) to bytes.
func (r *Renderer) block(page, name string, data any) ([]byte, error) {
	t, ok := r.pages[page]
	if !ok {
		return nil, fmt.Errorf("render: no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, fmt.Errorf("render %s/%s: %w", page, name, err)
	}
	return buf.Bytes(), nil
}

// RenderBlock sends one named template (a partial) of a page with status: the fragment an htmx
// action asked for, such as a table row after "mark reviewed". Headers are those of Render.
func (r *Renderer) RenderBlock(c *fiber.Ctx, status int, page, block string, data any) error {
	b, err := r.block(page, block, data)
	if err != nil {
		return err
	}
	return sendHTML(c, status, b)
}

package server

import (
	"bytes"
	"fmt"
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

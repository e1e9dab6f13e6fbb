package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// A sharedPage is a page rendered once for every viewer of the same data: the rendered review of
// all teams is megabytes, and rendering it into a buffer per request multiplied that by the number
// of people loading it (the largest part of serve's memory under load). The page is rendered with
// csrfMarker for the session's CSRF token and keyMarker for each form's one-time key; a request
// streams the shared bytes to its connection and writes its own token and fresh keys in their
// place, without copying the page.
type sharedPage struct {
	html []byte
	cuts []markerAt // in order
}

type markerAt struct {
	at, len int
	key     bool // a form key; else the CSRF token
}

// tokenMarker and keyMarker stand for the CSRF token and for a fresh one-time form key in a
// shared page. They are random per process, so no alert name or URL can contain one: a marker
// planted in data would otherwise have the viewer's token written into, say, a link.
var (
	tokenMarker = "opsreview-csrf-" + randomHex(16)
	keyMarker   = "opsreview-key-" + randomHex(16)
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newSharedPage(b []byte) *sharedPage {
	p := &sharedPage{html: bytes.Clone(b)} // exactly sized: the render buffer's spare capacity goes
	// The layout's <meta> carries csrfMarker: its first occurrence, in the head before any data,
	// as Render replaces it.
	if i := bytes.Index(p.html, []byte(csrfMarker)); i >= 0 {
		p.cuts = append(p.cuts, markerAt{at: i, len: len(csrfMarker)})
	}
	for _, m := range []markerAt{{len: len(tokenMarker)}, {len: len(keyMarker), key: true}} {
		marker := []byte(tokenMarker)
		if m.key {
			marker = []byte(keyMarker)
		}
		for i := 0; ; {
			j := bytes.Index(p.html[i:], marker)
			if j < 0 {
				break
			}
			m.at = i + j
			p.cuts = append(p.cuts, m)
			i += j + len(marker)
		}
	}
	slices.SortFunc(p.cuts, func(a, b markerAt) int { return a.at - b.at })
	return p
}

// writeTo writes the page with the token and, for each form key, nonce and a counter.
func (p *sharedPage) writeTo(w io.Writer, token, nonce string) error {
	last, n := 0, 0
	for _, m := range p.cuts {
		if _, err := w.Write(p.html[last:m.at]); err != nil {
			return err
		}
		var err error
		if m.key {
			n++
			_, err = io.WriteString(w, nonce+strconv.FormatInt(int64(n), 36))
		} else {
			_, err = io.WriteString(w, token)
		}
		last = m.at + m.len
		if err != nil {
			return err
		}
	}
	_, err := w.Write(p.html[last:])
	return err
}

// renderShared renders a page (or its content block, for htmx) to a sharedPage.
func (r *Renderer) renderShared(page string, fragment bool, data any) (*sharedPage, error) {
	t, ok := r.pages[page]
	if !ok {
		return nil, fmt.Errorf("render: no page %q", page)
	}
	block := "layout"
	if fragment {
		block = "content"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", page, err)
	}
	return newSharedPage(buf.Bytes()), nil
}

// sendShared streams a shared page with this request's CSRF token and fresh form keys.
func (s *Server) sendShared(c *fiber.Ctx, status int, p *sharedPage) error {
	token := s.csrfToken(c)
	nonce := randomHex(8) + "-"
	if err := sendHTML(c, status, nil); err != nil {
		return err
	}
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) { _ = p.writeTo(w, token, nonce) })
	return nil
}

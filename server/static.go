package server

import (
	"io/fs"
	"mime"
	"path"

	"github.com/gofiber/fiber/v2"

	"github.com/opsreview/opsreview/static"
)

// mountStatic serves the embedded static files at /static/<name>. A request whose v matches the
// file's content hash (the URLs staticURL renders) may be cached for a year: a changed file gets
// a new URL. Any other request is revalidated every time, by ETag.
func mountStatic(app *fiber.App) {
	app.Get("/static/*", func(c *fiber.Ctx) error {
		name := c.Params("*")
		hash := static.Hash(name) // "" for a missing file, and for any path with a slash in it
		if hash == "" {
			return fiber.ErrNotFound
		}
		body, err := fs.ReadFile(static.FS, name)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderContentType, contentType(name))
		etag := `"` + hash + `"`
		c.Set(fiber.HeaderETag, etag)
		if c.Query("v") == hash {
			c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			c.Set(fiber.HeaderCacheControl, "no-cache")
		}
		if c.Get(fiber.HeaderIfNoneMatch) == etag {
			return c.SendStatus(fiber.StatusNotModified)
		}
		return c.Send(body)
	})
}

// staticTypes pins the types of our own files: mime.TypeByExtension also reads the machine's
// mime.types, which may name JavaScript differently from one host to the next.
var staticTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

// contentType returns the Content-Type header for a static file's name.
func contentType(name string) string {
	ext := path.Ext(name)
	if ct, ok := staticTypes[ext]; ok {
		return ct
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return fiber.MIMEOctetStream
}

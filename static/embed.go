// Package static holds opsreview's stylesheet, scripts and icon, embedded in the binary.
// Pages link them at checksummed URLs (/static/<name>?v=<hash>) so browsers can cache
// them for a year and still fetch a new copy the moment a file changes.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

// FS holds the static files, each at the top level under its own name.
//
//go:embed htmx.min.js app.css app.js favicon.svg tv.css tv.js
var FS embed.FS

var (
	hashesOnce sync.Once
	hashes     map[string]string
)

// Hash returns a short hash of the named file's content for use in its URL,
// or "" when there is no such file.
func Hash(name string) string {
	hashesOnce.Do(func() { hashes = hashFiles(FS) })
	return hashes[name]
}

// hashFiles hashes every top-level file once: the files cannot change while the binary runs.
func hashFiles(files fs.FS) map[string]string {
	out := map[string]string{}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic("static: reading embedded files: " + err.Error()) // cannot happen with embed.FS
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(files, e.Name())
		if err != nil {
			panic("static: reading embedded " + e.Name() + ": " + err.Error())
		}
		sum := sha256.Sum256(b)
		// 16 hex digits (64 bits) are plenty to tell versions of one file apart.
		out[e.Name()] = hex.EncodeToString(sum[:])[:16]
	}
	return out
}

// Package templates holds opsreview's HTML templates, embedded in the binary: layout.html (the
// page frame), one file per page, and shared partials in partials/. server.NewRenderer parses
// them once at start.
package templates

import "embed"

// FS holds the layout, the pages and the partials.
//
//go:embed *.html partials/*.html
var FS embed.FS

package static

import (
	"strings"
	"testing"
)

// A lost brace (a merge is enough) silently turns every later rule of the stylesheet into part of
// an @media block: the pages still load, and look broken.
func TestStylesheetBracesBalance(t *testing.T) {
	b, err := FS.ReadFile("app.css")
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for i, line := range strings.Split(string(b), "\n") {
		depth += strings.Count(line, "{") - strings.Count(line, "}")
		if depth < 0 {
			t.Fatalf("app.css line %d closes a block that was never opened", i+1)
		}
	}
	if depth != 0 {
		t.Fatalf("app.css leaves %d block(s) open", depth)
	}
}

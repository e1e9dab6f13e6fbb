package static

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"regexp"
	"testing"
)

// vendorRow matches a row of VENDOR.md's table: the file name first, its sha256 later.
var vendorRow = regexp.MustCompile("(?m)^\\| `([^`]+)` \\|.*\\| `([0-9a-f]{64})` \\|")

func TestVendoredSHA256(t *testing.T) {
	doc, err := os.ReadFile("VENDOR.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := vendorRow.FindAllStringSubmatch(string(doc), -1)
	if len(rows) == 0 {
		t.Fatal("VENDOR.md records no file with a sha256")
	}
	for _, row := range rows {
		name, want := row[1], row[2]
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Errorf("%s is recorded in VENDOR.md but not embedded: %v", name, err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: embedded sha256 %s, VENDOR.md records %s", name, got, want)
		}
	}
}

func TestHash(t *testing.T) {
	for _, name := range []string{"htmx.min.js", "app.css", "app.js", "favicon.svg"} {
		if h := Hash(name); len(h) != 16 {
			t.Errorf("Hash(%q) = %q, want 16 hex digits", name, h)
		}
	}
	if h := Hash("nope.js"); h != "" {
		t.Errorf("Hash of a missing file = %q, want empty", h)
	}
	if Hash("app.css") == Hash("app.js") {
		t.Error("two different files have the same hash")
	}
}

package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

const docsPath = "../docs/config.md"

// TestDocsHaveEveryKey keeps the reference complete: every key is written there as `key`.
func TestDocsHaveEveryKey(t *testing.T) {
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keyPaths(reflect.TypeFor[Config](), "") {
		if !strings.Contains(string(b), "`"+key+"`") {
			t.Errorf("%s does not document `%s`", docsPath, key)
		}
	}
}

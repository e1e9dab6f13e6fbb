package store

import (
	"context"
	"strings"
	"testing"
)

func TestOpenErrorsHideThePassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://postgres:cnry-pw-1@[::1:1/x",
		"postgres://postgres:cnry%2Fpw-2@[::1:1/x",
		"postgres://postgres:cnry-pw-3@127.0.0.1:1/x?sslmode=disable&connect_timeout=1",
		"host=127.0.0.1 port=1 password=cnry-pw-4 connect_timeout=1 junk",
		"host=127.0.0.1 port=1 password='cnry pw-5' sslmode=bogus",
	} {
		_, err := Open(context.Background(), dsn, "")
		if err == nil {
			t.Fatalf("%s: opened", dsn)
		}
		if strings.Contains(err.Error(), "cnry") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

package storetest

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// isURL reports whether a connection string is in URL form rather than
// libpq's key=value form; lib/pq accepts both.
func isURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// withDatabase returns the connection string base pointing at database db,
// keeping host, user, password and parameters.
func withDatabase(base, db string) (string, error) {
	if !isURL(base) {
		// In key=value form the last setting of a key wins.
		return strings.TrimSpace(base) + " dbname=" + db, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse database URL %s: %w", redact(base), err)
	}
	u.Path = "/" + db
	u.RawPath = ""
	if q := u.Query(); q.Has("dbname") {
		q.Del("dbname")
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// kvPassword matches a password setting in key=value form, quoted or not.
var kvPassword = regexp.MustCompile(`password\s*=\s*('(\\.|[^'])*'|\S+)`)

// redact hides the password of a connection string so it can go into a
// test log.
func redact(dsn string) string {
	if !isURL(dsn) {
		return kvPassword.ReplaceAllString(dsn, "password=xxxxx")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable database URL)"
	}
	return u.Redacted()
}

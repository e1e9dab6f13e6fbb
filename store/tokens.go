package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Token kinds.
const (
	TokenTV  = "tv"  // a TV link: read-only access for a wall screen
	TokenAPI = "api" // an API token for machine clients (CI, bots)
)

// ErrTokenNameTaken is returned when a live token of the same kind already has the name.
var ErrTokenNameTaken = errors.New("a live token with this name exists")

// Token is a TV link or an API token as stored: never the token itself, only its hash.
type Token struct {
	ID         int64      `db:"id"`
	Kind       string     `db:"kind"`
	Name       string     `db:"name"`
	Scope      string     `db:"scope"`
	CreatedAt  time.Time  `db:"created_at"`
	ExpiresAt  *time.Time `db:"expires_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
}

// Valid reports whether the token may be used at now: not revoked and not expired.
func (t Token) Valid(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// HashToken is how a token is stored and looked up. The tokens are 256 random bits, so a plain
// SHA-256 is enough: there is nothing to guess that a slow hash would protect.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

const tokenColumns = `id, kind, name, scope, created_at, expires_at, last_used_at, revoked_at`

// CreateToken stores a new token's hash under t's kind and name. A live token of that kind with
// the same name makes it fail with ErrTokenNameTaken.
func (s *Store) CreateToken(ctx context.Context, t Token, token string) (Token, error) {
	var out Token
	err := s.db.GetContext(ctx, &out, `
		INSERT INTO access_tokens (kind, name, token_hash, scope, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING `+tokenColumns,
		t.Kind, t.Name, HashToken(token), t.Scope, t.CreatedAt, t.ExpiresAt)
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23505" && pe.Constraint == "access_tokens_live_name" {
		return out, fmt.Errorf("creating %s token %q: %w", t.Kind, t.Name, ErrTokenNameTaken)
	}
	if err != nil {
		return out, classify(fmt.Errorf("creating %s token %q: %w", t.Kind, t.Name, err))
	}
	return out, nil
}

// Tokens lists the tokens of a kind, live ones first, then by name.
func (s *Store) Tokens(ctx context.Context, kind string) ([]Token, error) {
	var out []Token
	err := s.db.SelectContext(ctx, &out, `
		SELECT `+tokenColumns+`
		FROM access_tokens
		WHERE kind = $1
		ORDER BY revoked_at IS NOT NULL, name, created_at DESC`, kind)
	if err != nil {
		return nil, classify(fmt.Errorf("listing %s tokens: %w", kind, err))
	}
	return out, nil
}

// RevokeToken revokes the live token of a kind with the name; ErrNotFound when there is none.
func (s *Store) RevokeToken(ctx context.Context, kind, name string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `
		UPDATE access_tokens SET revoked_at = $3
		WHERE kind = $1 AND name = $2 AND revoked_at IS NULL`, kind, name, at)
	if err != nil {
		return classify(fmt.Errorf("revoking %s token %q: %w", kind, name, err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return classify(fmt.Errorf("revoking %s token %q: %w", kind, name, err))
	} else if n == 0 {
		return fmt.Errorf("revoking %s token %q: %w", kind, name, ErrNotFound)
	}
	return nil
}

// LookupToken finds the token of a kind whose hash matches, revoked and expired ones included
// (the caller decides, and can say "revoked"); ErrNotFound when no token matches.
func (s *Store) LookupToken(ctx context.Context, kind, token string) (Token, error) {
	var out Token
	err := s.db.GetContext(ctx, &out, `
		SELECT `+tokenColumns+`
		FROM access_tokens
		WHERE token_hash = $1 AND kind = $2`, HashToken(token), kind)
	if errors.Is(err, sql.ErrNoRows) {
		return out, fmt.Errorf("looking up a %s token: %w", kind, ErrNotFound)
	}
	if err != nil {
		return out, classify(fmt.Errorf("looking up a %s token: %w", kind, err))
	}
	return out, nil
}

// TouchToken records that a token was used at, at most once a minute: a TV polls every few
// seconds and need not write a row each time.
func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `
		UPDATE access_tokens SET last_used_at = $2
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`, id, at)
	if err != nil {
		return classify(fmt.Errorf("recording token use: %w", err))
	}
	return nil
}

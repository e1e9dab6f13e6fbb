package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func TestTokensCreateLookupRevoke(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	exp := now.Add(time.Hour)

	tok, err := s.CreateToken(ctx, Token{Kind: TokenTV, Name: "lobby", Scope: "payments", CreatedAt: now, ExpiresAt: &exp}, "secret-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(ctx, Token{Kind: TokenTV, Name: "lobby", CreatedAt: now}, "secret-2"); !errors.Is(err, ErrTokenNameTaken) {
		t.Fatalf("second live lobby: err = %v, want ErrTokenNameTaken", err)
	}
	// The same name in the other kind is another token.
	if _, err := s.CreateToken(ctx, Token{Kind: TokenAPI, Name: "lobby", Scope: "write", CreatedAt: now}, "secret-3"); err != nil {
		t.Fatal(err)
	}

	var stored [][]byte
	if err := s.DB().SelectContext(ctx, &stored, `SELECT token_hash FROM access_tokens`); err != nil {
		t.Fatal(err)
	}
	for _, h := range stored {
		if bytes.Contains(h, []byte("secret")) {
			t.Errorf("a token is stored in the clear: %q", h)
		}
	}

	got, err := s.LookupToken(ctx, TokenTV, "secret-1")
	if err != nil || got.ID != tok.ID || got.Scope != "payments" || !got.Valid(now) || got.Valid(exp) {
		t.Fatalf("lookup = %+v, %v", got, err)
	}
	if _, err := s.LookupToken(ctx, TokenAPI, "secret-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a TV link looked up as an API token: %v", err)
	}
	if err := s.TouchToken(ctx, tok.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, TokenTV, "lobby", now); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, TokenTV, "lobby", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("second revoke: %v, want ErrNotFound", err)
	}
	got, err = s.LookupToken(ctx, TokenTV, "secret-1")
	if err != nil || got.Valid(now) || got.LastUsedAt == nil {
		t.Errorf("after revoke: %+v, %v", got, err)
	}
	// The name is free again.
	if _, err := s.CreateToken(ctx, Token{Kind: TokenTV, Name: "lobby", CreatedAt: now}, "secret-4"); err != nil {
		t.Fatal(err)
	}
	list, err := s.Tokens(ctx, TokenTV)
	if err != nil || len(list) != 2 || list[0].RevokedAt != nil {
		t.Errorf("list = %+v, %v; want the live one first", list, err)
	}
}

package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"
)

// basicAuth checks HTTP Basic credentials against bcrypt hashes. bcrypt takes tens of
// milliseconds on purpose, and a browser sends the credentials with every request (each static
// file too), so a password that matched is remembered per user as a keyed MAC (the key is random
// per process and never leaves memory): the next request compares MACs instead of running bcrypt.
type basicAuth struct {
	users map[string][]byte
	key   []byte
	dummy []byte // hash compared for unknown users, so their replies take as long

	mu   sync.Mutex
	good map[string][]byte // user → MAC of the password that last matched; bounded by users
}

func newBasicAuth(users map[string]string) (*basicAuth, error) {
	b := &basicAuth{users: map[string][]byte{}, key: make([]byte, 32), good: map[string][]byte{}}
	rand.Read(b.key)
	for name, hash := range users {
		b.users[name] = []byte(hash)
	}
	var err error
	b.dummy, err = bcrypt.GenerateFromPassword([]byte("opsreview-no-such-user"), bcrypt.MinCost)
	return b, err
}

func (b *basicAuth) mac(user, pass string) []byte {
	m := hmac.New(sha256.New, b.key)
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(pass))
	return m.Sum(nil)
}

// verify reports whether pass is user's password.
func (b *basicAuth) verify(user, pass string) bool {
	hash, known := b.users[user]
	if !known {
		bcrypt.CompareHashAndPassword(b.dummy, []byte(pass))
		return false
	}
	mac := b.mac(user, pass)
	b.mu.Lock()
	seen := b.good[user]
	b.mu.Unlock()
	if seen != nil && hmac.Equal(seen, mac) {
		return true
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil {
		return false
	}
	b.mu.Lock()
	b.good[user] = mac
	b.mu.Unlock()
	return true
}

// basicCredentials reads an "Authorization: Basic" header.
func basicCredentials(c *fiber.Ctx) (user, pass string, ok bool) {
	scheme, enc, found := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	return user, pass, ok && user != ""
}

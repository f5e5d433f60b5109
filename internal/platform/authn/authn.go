// Package authn holds the sign-in machinery that staff and citizen
// accounts share: opaque session tokens stored only as digests, a lockout
// counter for names that match no account (so unknown and known accounts
// look alike), and a per-key rate limiter. It knows no tables: each domain
// keeps its own accounts and sessions.
package authn

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// NewToken returns a fresh random session token (256 bits, URL-safe).
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the stored id of a token: the database never holds a
// token that would sign anyone in.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NameDigest is a short digest of a typed sign-in name, for audit records
// of names that match no account (people type passwords into name fields,
// and an audit chain cannot forget).
func NameDigest(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:8])
}

// Ghosts counts failed sign-ins for names that match no account, so they
// lock like real accounts. Per node and in memory: enough to make unknown
// and known accounts look alike; it bounds its size.
type Ghosts struct {
	mu sync.Mutex
	m  map[string]ghost
}

type ghost struct {
	n     int
	until time.Time
}

// Fail counts a failure for name and returns until when it is locked, or
// the zero time while it is under threshold failures.
func (g *Ghosts) Fail(name string, now time.Time, threshold int, d time.Duration) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil || len(g.m) > 100000 {
		g.m = map[string]ghost{}
	}
	e := g.m[name]
	if e.until.After(now) {
		return e.until
	}
	e.n++
	e.until = time.Time{}
	if e.n >= threshold {
		e = ghost{until: now.Add(d)}
	}
	g.m[name] = e
	return e.until
}

// Limiter allows perMin events a minute per key (an address, say), in
// bursts of up to perMin. Idle keys are forgotten.
type Limiter struct {
	mu     sync.Mutex
	perMin int
	m      map[string]*rate.Limiter
	pruned time.Time
}

// NewLimiter returns a limiter of perMin events a minute per key (at least 1).
func NewLimiter(perMin int) *Limiter {
	return &Limiter{perMin: max(1, perMin), m: map[string]*rate.Limiter{}}
}

// Allow reports whether key may go ahead now, and counts it.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.pruned) > 10*time.Minute {
		for k, r := range l.m {
			if r.Tokens() >= float64(r.Burst()) {
				delete(l.m, k)
			}
		}
		l.pruned = now
	}
	r, ok := l.m[key]
	if !ok {
		r = rate.NewLimiter(rate.Every(time.Minute/time.Duration(l.perMin)), l.perMin)
		l.m[key] = r
	}
	return r.Allow()
}

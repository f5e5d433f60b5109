package authn

import (
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	a, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewToken()
	if a == b || len(a) != 43 || HashToken(a) == HashToken(b) || HashToken(a) != HashToken(a) || len(HashToken(a)) != 64 {
		t.Errorf("tokens %q %q", a, b)
	}
}

func TestGhostsLockAtThreshold(t *testing.T) {
	var g Ghosts
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i < 3; i++ {
		if u := g.Fail("nobody", now, 3, time.Minute); !u.IsZero() {
			t.Fatalf("locked after %d failures", i)
		}
	}
	if u := g.Fail("nobody", now, 3, time.Minute); !u.Equal(now.Add(time.Minute)) {
		t.Fatalf("third failure: locked until %v", u)
	}
	if u := g.Fail("nobody", now.Add(30*time.Second), 3, time.Minute); !u.Equal(now.Add(time.Minute)) {
		t.Fatalf("while locked: %v", u)
	}
	if u := g.Fail("nobody", now.Add(2*time.Minute), 3, time.Minute); !u.IsZero() {
		t.Fatalf("after the lock: %v", u)
	}
	if u := g.Fail("other", now, 3, time.Minute); !u.IsZero() {
		t.Fatal("names share a counter")
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(3)
	for i := range 3 {
		if !l.Allow("1.2.3.4") {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	if l.Allow("1.2.3.4") {
		t.Fatal("fourth attempt in a burst of 3 allowed")
	}
	if !l.Allow("5.6.7.8") {
		t.Fatal("another address refused")
	}
}

package password

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// cheap keeps unit tests fast; Default is exercised once and in the benchmark.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, p := range []Params{cheap, Default} {
		h := NewHasher(p, 2)
		enc, err := h.Hash(ctx, "correct horse battery staple")
		if err != nil {
			t.Fatalf("%v: Hash: %v", p, err)
		}
		prefix := "$argon2id$v=19$" + strings.SplitN(p.String(), ",salt", 2)[0] + "$"
		if !strings.HasPrefix(enc, prefix) {
			t.Errorf("%v: encoded %q, want prefix %q", p, enc, prefix)
		}
		ok, rehash, err := h.Verify(ctx, "correct horse battery staple", enc)
		if err != nil || !ok || rehash {
			t.Errorf("%v: Verify(right) = %v, %v, %v; want true, false, nil", p, ok, rehash, err)
		}
		gotP, _, _, err := decode(enc)
		if err != nil || gotP != p {
			t.Errorf("%v: decode = %v, %v", p, gotP, err)
		}
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	h := NewHasher(cheap, 1)
	a, _ := h.Hash(context.Background(), "same")
	b, _ := h.Hash(context.Background(), "same")
	if a == b {
		t.Fatalf("two hashes of the same password are identical: %q", a)
	}
}

func TestVerifyWrongPassword(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 1)
	enc, err := h.Hash(ctx, "Secret-Passw0rd")
	if err != nil {
		t.Fatal(err)
	}
	for _, wrong := range []string{"", "secret-passw0rd", "Secret-Passw0rd ", "Secret-Passw0r"} {
		ok, rehash, err := h.Verify(ctx, wrong, enc)
		if err != nil || ok || rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want false, false, nil", wrong, ok, rehash, err)
		}
	}
}

func TestVerifyNeedsRehash(t *testing.T) {
	ctx := context.Background()
	current := NewHasher(cheap, 1)
	cases := []struct {
		name   string
		old    Params
		rehash bool
	}{
		{"same", cheap, false},
		{"less memory", Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"fewer passes", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{"fewer threads", Params{Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{"shorter salt", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 32}, true},
		{"shorter key", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 16}, true},
		{"stronger", Params{Memory: 128, Time: 2, Threads: 2, SaltLen: 32, KeyLen: 64}, false},
	}
	for _, c := range cases {
		enc, err := NewHasher(c.old, 1).Hash(ctx, "pw")
		if err != nil {
			t.Fatal(err)
		}
		ok, rehash, err := current.Verify(ctx, "pw", enc)
		if err != nil || !ok || rehash != c.rehash {
			t.Errorf("%s: Verify = %v, %v, %v; want true, %v, nil", c.name, ok, rehash, err, c.rehash)
		}
	}

	// Raising the Hasher's time or threads above the stored ones asks for a rehash.
	enc, _ := NewHasher(cheap, 1).Hash(ctx, "pw")
	for _, p := range []Params{
		{Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		Default,
	} {
		ok, rehash, err := NewHasher(p, 1).Verify(ctx, "pw", enc)
		if err != nil || !ok || !rehash {
			t.Errorf("hasher %v: Verify = %v, %v, %v; want true, true, nil", p, ok, rehash, err)
		}
	}
	// A wrong password never asks for a rehash.
	if ok, rehash, err := NewHasher(Default, 1).Verify(ctx, "nope", enc); ok || rehash || err != nil {
		t.Errorf("wrong password against weaker hash: %v, %v, %v", ok, rehash, err)
	}
}

// Known answer from the reference implementation's test suite
// (phc-winner-argon2 src/test.c): argon2id, v=19, m=2^16, t=2, p=1,
// password "password", salt "somesalt".
func TestVerifyKnownAnswer(t *testing.T) {
	const enc = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	h := NewHasher(cheap, 1)
	ok, rehash, err := h.Verify(context.Background(), "password", enc)
	if err != nil || !ok {
		t.Fatalf("Verify = %v, %v, %v; want true", ok, rehash, err)
	}
	if !rehash { // 8-byte salt is shorter than cheap's 16
		t.Errorf("needsRehash = false for an 8-byte salt")
	}
	if re := encode(Params{Memory: 65536, Time: 2, Threads: 1}, []byte("somesalt"),
		mustKey(t, h, "password", "somesalt", Params{Memory: 65536, Time: 2, Threads: 1, KeyLen: 32})); re != enc {
		t.Errorf("encode = %q, want %q", re, enc)
	}
}

func mustKey(t *testing.T, h *Hasher, plain, salt string, p Params) []byte {
	t.Helper()
	k, err := h.key(context.Background(), plain, []byte(salt), p)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const goodSalt = "c29tZXNhbHRzb21lc2FsdA"                     // 16 bytes
const goodKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // 32 bytes

func TestVerifyMalformed(t *testing.T) {
	h := NewHasher(cheap, 1)
	ok := "$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey
	if _, _, _, err := decode(ok); err != nil {
		t.Fatalf("control string rejected: %v", err)
	}
	cases := map[string]string{
		"empty":             "",
		"plain text":        "hunter2",
		"bcrypt":            "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":           "$argon2i$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey,
		"argon2d":           "$argon2d$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey,
		"no leading $":      "argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey,
		"trailing $":        ok + "$",
		"missing key":       "$argon2id$v=19$m=64,t=1,p=1$" + goodSalt,
		"missing version":   "$argon2id$m=64,t=1,p=1$" + goodSalt + "$" + goodKey,
		"version 16":        "$argon2id$v=16$m=64,t=1,p=1$" + goodSalt + "$" + goodKey,
		"version junk":      "$argon2id$v=019$m=64,t=1,p=1$" + goodSalt + "$" + goodKey,
		"params reordered":  "$argon2id$v=19$t=1,m=64,p=1$" + goodSalt + "$" + goodKey,
		"params missing":    "$argon2id$v=19$m=64,t=1$" + goodSalt + "$" + goodKey,
		"params extra":      "$argon2id$v=19$m=64,t=1,p=1,keyid=x$" + goodSalt + "$" + goodKey,
		"param spaces":      "$argon2id$v=19$m=64, t=1,p=1$" + goodSalt + "$" + goodKey,
		"param sign":        "$argon2id$v=19$m=+64,t=1,p=1$" + goodSalt + "$" + goodKey,
		"param negative":    "$argon2id$v=19$m=64,t=-1,p=1$" + goodSalt + "$" + goodKey,
		"param leading 0":   "$argon2id$v=19$m=064,t=1,p=1$" + goodSalt + "$" + goodKey,
		"param hex":         "$argon2id$v=19$m=0x40,t=1,p=1$" + goodSalt + "$" + goodKey,
		"param empty":       "$argon2id$v=19$m=,t=1,p=1$" + goodSalt + "$" + goodKey,
		"m over 4 GiB":      "$argon2id$v=19$m=4194305,t=1,p=1$" + goodSalt + "$" + goodKey,
		"m overflow uint32": "$argon2id$v=19$m=4294967296,t=1,p=1$" + goodSalt + "$" + goodKey,
		"m huge":            "$argon2id$v=19$m=99999999999999999999,t=1,p=1$" + goodSalt + "$" + goodKey,
		"m below 8p":        "$argon2id$v=19$m=15,t=1,p=2$" + goodSalt + "$" + goodKey,
		"m zero":            "$argon2id$v=19$m=0,t=1,p=1$" + goodSalt + "$" + goodKey,
		"t zero":            "$argon2id$v=19$m=64,t=0,p=1$" + goodSalt + "$" + goodKey,
		"t over 100":        "$argon2id$v=19$m=64,t=101,p=1$" + goodSalt + "$" + goodKey,
		"p zero":            "$argon2id$v=19$m=64,t=1,p=0$" + goodSalt + "$" + goodKey,
		"p over 255":        "$argon2id$v=19$m=4096,t=1,p=256$" + goodSalt + "$" + goodKey,
		"salt padded":       "$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "==$" + goodKey,
		"salt url alphabet": "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2F-dA$" + goodKey,
		"salt bad char":     "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2F*dA$" + goodKey,
		"salt newline":      "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRz\nb21lc2FsdA$" + goodKey,
		"salt stray bits":   "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdB$" + goodKey,
		"salt too short":    "$argon2id$v=19$m=64,t=1,p=1$c29tZXM$" + goodKey,
		"salt empty":        "$argon2id$v=19$m=64,t=1,p=1$$" + goodKey,
		"salt too long":     "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 88) + "$" + goodKey,
		"key empty":         "$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$",
		"key too short":     "$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$AAAAAAAAAAAAAAAAAAAA",
		"key too long":      "$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$" + strings.Repeat("A", 88),
		"key bad length":    "$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey + "AA",
	}
	for name, enc := range cases {
		okv, rehash, err := h.Verify(context.Background(), "password", enc)
		if err == nil || okv || rehash {
			t.Errorf("%s: Verify = %v, %v, %v; want an error", name, okv, rehash, err)
			continue
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v does not wrap ErrMalformed", name, err)
		}
		if enc != "" && strings.Contains(err.Error(), enc) {
			t.Errorf("%s: error echoes the stored hash: %v", name, err)
		}
	}
}

func TestContextCancelWhileWaiting(t *testing.T) {
	h := NewHasher(cheap, 1)
	enc, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	// Occupy the only slot.
	if err := h.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 3)
	go func() { _, err := h.Hash(ctx, "pw"); errc <- err }()
	go func() { _, _, err := h.Verify(ctx, "pw", enc); errc <- err }()
	go func() { h.Dummy(ctx); errc <- context.Canceled }()

	select {
	case err := <-errc:
		t.Fatalf("a call returned while the slot was taken: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	for range 3 {
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("call did not return after cancel")
		}
	}

	// An already-expired context fails even when a slot is free.
	h.release()
	dctx, dcancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer dcancel()
	if _, err := h.Hash(dctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash with expired ctx: %v", err)
	}
	// And the slot is usable again.
	if ok, _, err := h.Verify(context.Background(), "pw", enc); !ok || err != nil {
		t.Errorf("Verify after release = %v, %v", ok, err)
	}
}

func TestSlotsBoundConcurrency(t *testing.T) {
	h := NewHasher(cheap, 3)
	if cap(h.slots) != 3 {
		t.Fatalf("slots = %d, want 3", cap(h.slots))
	}
	if cap(NewHasher(cheap, 0).slots) != 1 {
		t.Fatal("slots < 1 should mean 1")
	}
	for range 3 {
		if err := h.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("fourth hash with three slots held: %v", err)
	}
}

func TestNewHasherPanicsOnBadParams(t *testing.T) {
	for _, p := range []Params{
		{},
		{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 7, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
		{Memory: maxMemory + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHasher(%v) did not panic", p)
				}
			}()
			NewHasher(p, 1)
		}()
	}
}

func TestParamsAccessorsAndString(t *testing.T) {
	if got := NewHasher(Default, 1).Params(); got != Default {
		t.Errorf("Params() = %v", got)
	}
	if got, want := Default.String(), "m=65536,t=1,p=4,salt=16,key=32"; got != want {
		t.Errorf("Default.String() = %q, want %q", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey)
	f.Add("$argon2id$v=19$m=65536,t=1,p=4$" + goodSalt + "$" + goodKey)
	f.Add("$argon2id$v=19$m=4294967295,t=1,p=1$$")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Add("$$$$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := decode(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if why := p.check(); why != "" {
			t.Fatalf("decode accepted out-of-bounds params %v: %s", p, why)
		}
		if int(p.SaltLen) != len(salt) || int(p.KeyLen) != len(key) {
			t.Fatalf("lengths disagree: %v, salt %d, key %d", p, len(salt), len(key))
		}
		if re := encode(p, salt, key); re != s {
			t.Fatalf("accepted non-canonical string %q (re-encodes as %q)", s, re)
		}
	})
}

func BenchmarkHashDefault(b *testing.B) {
	h := NewHasher(Default, 1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBcryptCost12 is the baseline measured in the same run: bcrypt at
// cost 12, a common choice for the same purpose.
func BenchmarkBcryptCost12(b *testing.B) {
	for b.Loop() {
		if _, err := bcrypt.GenerateFromPassword([]byte("correct horse battery staple"), 12); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyParallel measures sign-in throughput at each cost:
// verifications per second with every core busy (slots = GOMAXPROCS);
// logins/s per core = 1e9 / (ns/op × cores).
func BenchmarkVerifyParallel(b *testing.B) {
	for _, tc := range []struct {
		name string
		p    Params
	}{{"staff", Default}, {"citizen", Citizen}} {
		b.Run(tc.name, func(b *testing.B) {
			h := NewHasher(tc.p, runtime.GOMAXPROCS(0))
			ctx := context.Background()
			enc, err := h.Hash(ctx, "correct horse battery staple")
			if err != nil {
				b.Fatal(err)
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if ok, _, err := h.Verify(ctx, "correct horse battery staple", enc); !ok || err != nil {
						b.Fatal("verify failed", err)
					}
				}
			})
		})
	}
}

package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // memory in KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes (degree of parallelism)
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // derived key length in bytes
}

// Default is the cost used for new hashes: 64 MiB of memory, one pass, four
// lanes, a 16-byte salt and a 32-byte key.
//
// argon2id is the memory-hard function OWASP's Password Storage Cheat Sheet
// recommends first; its minimum configurations are m=46 MiB/t=1/p=1 and
// m=19 MiB/t=2/p=1, and RFC 9106 §4 suggests 64 MiB with four lanes where
// 2 GiB is not available. 64 MiB exceeds the OWASP memory floor (memory, not
// passes, is what makes GPU and ASIC guessing expensive), one pass keeps a
// sign-in at roughly 115–150 ms on two cores (BenchmarkHashDefault), and four
// lanes use the cores that are there. Raise Memory first, then Time, as
// hardware allows; existing hashes upgrade through needsRehash.
var Default = Params{
	Memory:  64 * 1024,
	Time:    1,
	Threads: 4,
	SaltLen: 16,
	KeyLen:  32,
}

// Citizen is the cost for the public's accounts, which sign in far more
// often than staff (issue 4 budgets 15 sign-ins a second per core, as
// Keycloak does): OWASP's second minimum configuration, m=19 MiB, t=2,
// p=1. One lane per hash lets concurrent sign-ins use the cores side by
// side; BenchmarkHashCitizen measures it.
var Citizen = Params{
	Memory:  19 * 1024,
	Time:    2,
	Threads: 1,
	SaltLen: 16,
	KeyLen:  32,
}

// Bounds on parameters, for the Hasher's own and for those read back from a
// stored hash, so that a corrupt or hostile string cannot make Verify
// allocate gigabytes or spin for minutes.
const (
	maxMemory  = 4 * 1024 * 1024 // KiB, 4 GiB
	maxTime    = 100
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// ErrMalformed is wrapped by the error Verify returns when the encoded hash is
// not a well-formed argon2id PHC string with sane parameters.
var ErrMalformed = errors.New("password: malformed hash")

// String returns p in the PHC parameter notation followed by the salt and key
// lengths, e.g. "m=65536,t=1,p=4,salt=16,key=32".
func (p Params) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d,salt=%d,key=%d", p.Memory, p.Time, p.Threads, p.SaltLen, p.KeyLen)
}

// check reports why p is outside the supported bounds, or "" if it is not.
func (p Params) check() string {
	switch {
	case p.Threads == 0:
		return "p must be at least 1"
	case p.Time == 0 || p.Time > maxTime:
		return fmt.Sprintf("t must be in 1..%d", maxTime)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Sprintf("m must be in 8*p..%d KiB", maxMemory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Sprintf("salt length must be in %d..%d bytes", minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Sprintf("key length must be in %d..%d bytes", minKeyLen, maxKeyLen)
	}
	return ""
}

// weakerThan reports whether any parameter of p is below the one in q.
func (p Params) weakerThan(q Params) bool {
	return p.Memory < q.Memory || p.Time < q.Time || p.Threads < q.Threads ||
		p.SaltLen < q.SaltLen || p.KeyLen < q.KeyLen
}

// Hasher hashes and verifies passwords with fixed Params. At most slots hashes
// run at once, each holding Params.Memory KiB; further calls wait for a slot
// or for their context to end. A Hasher is safe for concurrent use.
type Hasher struct {
	p     Params
	slots chan struct{}
	dummy []byte // fixed salt for Dummy
}

// NewHasher returns a Hasher that hashes with p and runs at most slots hashes
// at once (fewer than 1 means 1). Peak memory is about slots × p.Memory KiB.
// It panics if p is outside the supported bounds (t in 1..100, m in 8·p KiB
// to 4 GiB, salt 8..64 bytes, key 16..64 bytes), which is a programming error.
func NewHasher(p Params, slots int) *Hasher {
	if why := p.check(); why != "" {
		panic("password.NewHasher: invalid params " + p.String() + ": " + why)
	}
	if slots < 1 {
		slots = 1
	}
	return &Hasher{
		p:     p,
		slots: make(chan struct{}, slots),
		dummy: make([]byte, p.SaltLen),
	}
}

// Params returns h's parameters.
func (h *Hasher) Params() Params { return h.p }

// acquire waits for a free slot or for ctx to end.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// key runs argon2id under a slot. The computation itself is not interruptible;
// ctx only bounds the wait for a slot.
func (h *Hasher) key(ctx context.Context, plain string, salt []byte, p Params) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer h.release()
	return argon2.IDKey([]byte(plain), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// Hash returns the PHC string of plain under a fresh random salt, e.g.
// "$argon2id$v=19$m=65536,t=1,p=4$<salt>$<key>". It fails only if ctx ends
// while waiting for a slot (the error wraps ctx.Err()) or the system random
// source fails.
func (h *Hasher) Hash(ctx context.Context, plain string) (string, error) {
	salt := make([]byte, h.p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password.Hash: reading salt: %w", err)
	}
	key, err := h.key(ctx, plain, salt, h.p)
	if err != nil {
		return "", fmt.Errorf("password.Hash: waiting for a hashing slot: %w", err)
	}
	return encode(h.p, salt, key), nil
}

// Verify reports whether plain matches encoded, comparing keys in constant
// time. The stored parameters, not h's, are used to recompute the key.
// needsRehash is true when ok and encoded used weaker parameters than h's
// (any of memory, time, threads, salt or key length lower), in which case the
// caller should store h.Hash(plain). A malformed encoded string, or one whose
// parameters are out of bounds, yields an error wrapping ErrMalformed; an
// error is also returned if ctx ends while waiting for a slot.
func (h *Hasher) Verify(ctx context.Context, plain, encoded string) (ok, needsRehash bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, false, fmt.Errorf("password.Verify: %w", err)
	}
	got, err := h.key(ctx, plain, salt, p)
	if err != nil {
		return false, false, fmt.Errorf("password.Verify: waiting for a hashing slot: %w", err)
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p.weakerThan(h.p), nil
}

// Dummy performs one hash at h's cost and discards it. Call it when the
// account being signed in to does not exist, so that the response takes as
// long as a real Verify. It waits for a slot like Hash and returns early if
// ctx ends first.
func (h *Hasher) Dummy(ctx context.Context) {
	_, _ = h.key(ctx, "", h.dummy, h.p)
}

var b64 = base64.RawStdEncoding

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses an argon2id PHC string strictly: version 19 only, the
// parameters m, t, p in that order as canonical decimals, and canonical
// unpadded base64 for salt and key. The returned Params carry the decoded
// salt and key lengths. Error messages never echo the input.
func decode(s string) (p Params, salt, key []byte, err error) {
	bad := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformed, why)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want $argon2id$v=..$m=..,t=..,p=..$salt$key")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return bad("want parameters m, t, p")
	}
	var nums [3]uint64
	for i, name := range [3]string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return bad("want parameters m, t, p in that order")
		}
		n, ok := parseDecimal(v)
		if !ok {
			return bad("parameter " + name + " is not a decimal number")
		}
		nums[i] = n
	}
	switch {
	case nums[0] > maxMemory:
		return bad("m too large")
	case nums[1] > maxTime:
		return bad("t too large")
	case nums[2] > 255:
		return bad("p too large")
	}
	p.Memory, p.Time, p.Threads = uint32(nums[0]), uint32(nums[1]), uint8(nums[2])
	salt, ok := decodeB64(parts[4])
	if !ok {
		return bad("salt is not canonical unpadded base64")
	}
	key, ok = decodeB64(parts[5])
	if !ok {
		return bad("key is not canonical unpadded base64")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if why := p.check(); why != "" {
		return bad(why)
	}
	return p, salt, key, nil
}

// parseDecimal parses a canonical non-negative decimal (no sign, no leading
// zeros, at most 10 digits).
func parseDecimal(s string) (uint64, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// decodeB64 decodes canonical unpadded standard base64; anything that does not
// re-encode to the same text (padding, newlines, stray bits) is refused.
func decodeB64(s string) ([]byte, bool) {
	if len(s) > 2*maxKeyLen+2*maxSaltLen {
		return nil, false
	}
	b, err := b64.DecodeString(s)
	if err != nil || b64.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}

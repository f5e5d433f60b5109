package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

const (
	// Digits is the number of decimal digits in a code.
	Digits = 6
	// Period is the length of one time step.
	Period = 30 * time.Second
	// SecretBytes is the number of random bytes in a secret from NewSecret.
	SecretBytes = 20

	period    = int64(Period / time.Second)
	minSecret = 16 // bytes; RFC 4226 §4 R6: the shared secret MUST be at least 128 bits
	maxSecret = 1024
	skewSteps = 1
	modulus   = 1_000_000 // 10^Digits
)

// ErrSecret is returned by Code for a secret that is not base32 or is shorter
// than 128 bits (RFC 4226 requires at least 128; NewSecret makes 160).
var ErrSecret = errors.New("totp: malformed secret")

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns 20 random bytes encoded as unpadded base32 (upper case).
func NewSecret() (string, error) {
	b := make([]byte, SecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("totp.NewSecret: %w", err)
	}
	return b32.EncodeToString(b), nil
}

// normalize upper-cases ASCII letters and drops white space and trailing
// padding, the forms in which people and apps copy secrets.
func normalize(secret string) string {
	var sb strings.Builder
	sb.Grow(len(secret))
	for i := 0; i < len(secret); i++ {
		c := secret[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		sb.WriteByte(c)
	}
	return strings.TrimRight(sb.String(), "=")
}

// decodeSecret accepts base32 case-insensitively, with or without spaces and
// padding, and requires at least 128 bits.
func decodeSecret(secret string) ([]byte, error) {
	if len(secret) > 2*maxSecret {
		return nil, ErrSecret
	}
	s := normalize(secret)
	switch len(s) % 8 {
	case 1, 3, 6: // no whole byte ends there; the unpadded decoder would drop them silently
		return nil, ErrSecret
	}
	key, err := b32.DecodeString(s)
	if err != nil || len(key) < minSecret || len(key) > maxSecret {
		return nil, ErrSecret
	}
	return key, nil
}

// step returns the RFC 6238 time-step counter of t, or false before the epoch.
func step(t time.Time) (int64, bool) {
	u := t.Unix()
	if u < 0 {
		return 0, false
	}
	return u / period, true
}

// hotp is RFC 4226 HOTP with dynamic truncation, as Digits ASCII digits.
func hotp(key []byte, c int64) []byte {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(c))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	v %= modulus
	out := make([]byte, Digits)
	for i := Digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return out
}

// Code returns the code for secret at t. It fails with ErrSecret for a
// malformed secret, and for t before the Unix epoch.
func Code(secret string, t time.Time) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	c, ok := step(t)
	if !ok {
		return "", errors.New("totp: time before the Unix epoch")
	}
	return string(hotp(key, c)), nil
}

// Verify checks code against secret at t, allowing ±1 step of clock skew. It
// returns the matched time-step counter so the caller can refuse replays (a
// counter <= the last used one). code must be exactly 6 ASCII digits; a
// malformed code or secret is simply not ok. The candidate codes are compared
// in constant time and all are computed regardless of which matches; if more
// than one step matches, the latest is returned.
func Verify(secret, code string, t time.Time) (counter int64, ok bool) {
	if len(code) != Digits {
		return 0, false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0, false
		}
	}
	key, err := decodeSecret(secret)
	if err != nil {
		return 0, false
	}
	now, valid := step(t)
	if !valid {
		return 0, false
	}
	for c := now - skewSteps; c <= now+skewSteps; c++ {
		if c < 0 {
			continue
		}
		if subtle.ConstantTimeCompare(hotp(key, c), []byte(code)) == 1 {
			counter, ok = c, true
		}
	}
	return counter, ok
}

// URI returns the otpauth://totp/ key URI (issuer and account label escaped
// properly) for authenticator apps, in the Google Authenticator key URI
// format: otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=ISSUER&algorithm=SHA1&digits=6&period=30.
// Issuer and account are percent-encoded separately (UTF-8, space as %20, and
// ':' as %3A so that neither can forge the separator); with an empty issuer
// the label is the account alone and the issuer parameter is omitted. The
// secret is normalised to unpadded upper-case base32 without spaces but not
// validated.
func URI(issuer, account, secret string) string {
	var sb strings.Builder
	sb.WriteString("otpauth://totp/")
	if issuer != "" {
		sb.WriteString(escape(issuer))
		sb.WriteByte(':')
	}
	sb.WriteString(escape(account))
	sb.WriteString("?secret=")
	sb.WriteString(escape(normalize(secret)))
	if issuer != "" {
		sb.WriteString("&issuer=")
		sb.WriteString(escape(issuer))
	}
	fmt.Fprintf(&sb, "&algorithm=SHA1&digits=%d&period=%d", Digits, period)
	return sb.String()
}

// escape percent-encodes every byte except RFC 3986 unreserved characters and
// '@' (kept so e-mail accounts stay readable). Valid in both path and query.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '@':
			sb.WriteByte(c)
		default:
			sb.WriteByte('%')
			sb.WriteByte(hex[c>>4])
			sb.WriteByte(hex[c&0x0f])
		}
	}
	return sb.String()
}

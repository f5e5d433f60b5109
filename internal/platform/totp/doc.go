// Package totp implements RFC 6238 time-based one-time passwords as used by
// authenticator apps: HMAC-SHA1, 6 digits, 30-second steps, counted from the
// Unix epoch.
//
// Secrets are 20 random bytes (160 bits, the length RFC 4226 recommends)
// written as unpadded upper-case base32. [Verify] accepts the codes of the
// previous, current and next step and returns the step counter it matched, so
// the caller can store it and refuse any later code whose counter is not
// greater (replay protection is the caller's job; this package keeps no state).
package totp

// Package staff is who works the platform: staff accounts (工作人员), their
// role grants, console sign-in with argon2id passwords, lockout and a TOTP
// second factor, and database-backed sessions.
//
// Layer: above org (a staff member belongs to a region and optionally a
// department; grants name departments), below every console domain that
// reads the signed-in principal from the request context.
//
// Sign-in: password (PHC argon2id, see internal/platform/password) →
// when TOTP is enabled, or always for platform admins, a session that has
// not passed the second factor (mfa_ok = false) which can only reach the
// TOTP and enrolment pages → full session. Failures count per account; at
// the threshold the account locks for a while with a message saying until
// when. Sessions expire after an idle TTL and an absolute maximum.
package staff

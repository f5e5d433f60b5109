// Package identity is unified identity (统一身份认证): accounts of natural
// and legal persons with their assurance levels (实名等级), registration and
// password reset proven by SMS codes, an optional e-mail address proven by
// a code mailed there, notices to account holders on every channel they
// have (NotifyAccount: SMS, and e-mail once verified, queued on the outbox),
// citizen sign-in and sessions, 经办人 authorisation with the acting
// identity in sessions and audit, the public code validation API
// (证件号码校验), and the OpenID Connect provider through which the
// province's other systems sign their users in (oidc*.go).
//
// Layer 2: it uses no other domain.
package identity

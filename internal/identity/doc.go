// Package identity is unified identity (统一身份认证): accounts of natural
// and legal persons, their assurance levels, sign-in, and single sign-on for
// the province's other systems. Today it holds the public code validation
// API (证件号码校验) that other systems call; accounts and the OIDC provider
// arrive with the rest of issue 4.
package identity

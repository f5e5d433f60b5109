package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authn"
	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/web"
)

// opStorage is the op.Storage of the provider: clients, authorization
// requests, tokens and keys, all in the database so any node serves any
// request.
type opStorage struct{ o *OIDC }

var _ op.Storage = (*opStorage)(nil)
var _ op.CanSetUserinfoFromRequest = (*opStorage)(nil)
var _ op.CanTerminateSessionFromRequest = (*opStorage)(nil)

// ---- clients ----

// opClient adapts a Client to op.Client.
type opClient struct {
	c     Client
	login func(string) string
	idTTL time.Duration
}

func (c *opClient) GetID() string                    { return c.c.ID }
func (c *opClient) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *opClient) PostLogoutRedirectURIs() []string { return c.c.PostLogoutURIs }
func (c *opClient) ApplicationType() op.ApplicationType {
	if c.c.Public() {
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}
func (c *opClient) AuthMethod() oidc.AuthMethod { return oidc.AuthMethod(c.c.AuthMethod) }
func (c *opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *opClient) LoginURL(id string) string            { return c.login(id) }
func (c *opClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *opClient) IDTokenLifetime() time.Duration       { return c.idTTL }
func (c *opClient) DevMode() bool                        { return false }
func (c *opClient) IsScopeAllowed(scope string) bool     { return c.c.Entitled(scope) }
func (c *opClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *opClient) ClockSkew() time.Duration             { return 0 }
func (c *opClient) GrantTypes() []oidc.GrantType {
	g := []oidc.GrantType{oidc.GrantTypeCode}
	if c.c.Refresh {
		g = append(g, oidc.GrantTypeRefreshToken)
	}
	return g
}
func (c *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// enabledClient returns an enabled client or a plain error (the op answers
// invalid_client; a server_error only for a database fault).
func (s *opStorage) enabledClient(ctx context.Context, id string) (Client, error) {
	c, err := s.o.Client(ctx, id)
	if errors.Is(err, errNoClient) {
		return Client{}, errors.New("unknown client")
	}
	if err != nil {
		return Client{}, oidc.ErrServerError().WithParent(err)
	}
	if c.Disabled {
		return Client{}, errors.New("client disabled")
	}
	return c, nil
}

func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.enabledClient(ctx, id)
	if err != nil {
		return nil, err
	}
	return &opClient{c: c, login: s.o.loginURL, idTTL: s.o.set.IDTokenTTL}, nil
}

func (s *opStorage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.enabledClient(ctx, id)
	if err != nil {
		return err
	}
	if c.Public() || !secretMatches(c.SecretHash, secret) {
		return errors.New("wrong client secret")
	}
	return nil
}

// ---- authorization requests ----

// authRequest is an authorization request, as stored.
type authRequest struct {
	ID, ClientID, RedirectURI         string
	Scopes                            []string
	State, Nonce                      string
	ResponseType, ResponseMode        string
	CodeChallenge, CodeChallengeMethd string
	Prompt                            []string
	CreatedAt, ExpiresAt              time.Time
	AccountID, ActingFor, Subject     string
	AuthTime                          time.Time
	ACR                               string
	IsDone                            bool
	MaxAge                            int // seconds; -1: none
}

// needsFreshSignIn reports whether a portal session signed in at signedIn
// is too old for this request: prompt=login asks for a sign-in after the
// request was made, max_age for one at most that many seconds ago. A
// sign-in made during the request satisfies both (auth_time tells the
// system when it was).
func (a *authRequest) needsFreshSignIn(signedIn, now time.Time) bool {
	if signedIn.After(a.CreatedAt) {
		return false
	}
	return slices.Contains(a.Prompt, oidc.PromptLogin) || a.MaxAge >= 0 && now.Sub(signedIn) > time.Duration(a.MaxAge)*time.Second
}

func (a *authRequest) GetID() string         { return a.ID }
func (a *authRequest) GetACR() string        { return a.ACR }
func (a *authRequest) GetAMR() []string      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time {
	return a.AuthTime
}
func (a *authRequest) GetClientID() string { return a.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethod(a.CodeChallengeMethd)}
}
func (a *authRequest) GetNonce() string                   { return a.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.ResponseType) }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.ResponseMode) }
func (a *authRequest) GetScopes() []string                { return a.Scopes }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) GetSubject() string                 { return a.Subject }
func (a *authRequest) Done() bool                         { return a.IsDone }

const authRequestColumns = `id, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode, code_challenge, code_challenge_method,
	prompt, created_at, expires_at, COALESCE(account_id, ''), acting_for, subject, auth_time, acr, done, COALESCE(max_age, -1)`

func scanAuthRequest(sc interface{ Scan(...any) error }) (*authRequest, error) {
	a := &authRequest{}
	var scopes, prompt string
	var authTime sql.NullTime
	err := sc.Scan(&a.ID, &a.ClientID, &a.RedirectURI, &scopes, &a.State, &a.Nonce, &a.ResponseType, &a.ResponseMode, &a.CodeChallenge,
		&a.CodeChallengeMethd, &prompt, &a.CreatedAt, &a.ExpiresAt, &a.AccountID, &a.ActingFor, &a.Subject, &authTime, &a.ACR, &a.IsDone, &a.MaxAge)
	a.Scopes, a.Prompt, a.AuthTime = strings.Fields(scopes), strings.Fields(prompt), authTime.Time
	return a, err
}

// Limits on what a client may put in an authorization request.
const (
	maxStateLen = 1024
	maxNonceLen = 512
)

func (s *opStorage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := s.enabledClient(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithParent(err)
	}
	if !slices.Contains(req.Scopes, ScopeOpenID) {
		return nil, oidc.ErrInvalidScope().WithDescription("the openid scope is required")
	}
	if req.ResponseType != oidc.ResponseTypeCode {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("only response_type=code is supported")
	}
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery && req.ResponseMode != oidc.ResponseModeFormPost {
		return nil, oidc.ErrInvalidRequest().WithDescription("unsupported response_mode")
	}
	switch {
	case req.CodeChallengeMethod == oidc.CodeChallengeMethodPlain:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case c.Public() && (req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256):
		return nil, oidc.ErrInvalidRequest().WithDescription("public clients must use PKCE with S256")
	case req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case req.CodeChallenge != "" && (len(req.CodeChallenge) < 43 || len(req.CodeChallenge) > 128):
		return nil, oidc.ErrInvalidRequest().WithDescription("malformed code_challenge")
	case len(req.State) > maxStateLen || len(req.Nonce) > maxNonceLen:
		return nil, oidc.ErrInvalidRequest().WithDescription("state or nonce too long")
	}
	// A scope the client is not entitled to is dropped, not refused.
	var scopes []string
	for _, sc := range req.Scopes {
		if (sc == ScopeOpenID || c.Entitled(sc)) && !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	now := s.o.clock()
	a := &authRequest{ID: sqldb.NewID(), ClientID: c.ID, RedirectURI: req.RedirectURI, Scopes: orderScopes(scopes), State: req.State, Nonce: req.Nonce,
		ResponseType: string(req.ResponseType), ResponseMode: string(req.ResponseMode), CodeChallenge: req.CodeChallenge,
		CodeChallengeMethd: string(req.CodeChallengeMethod), Prompt: req.Prompt, CreatedAt: now, ExpiresAt: now.Add(authRequestTTL), MaxAge: -1}
	var maxAge any // NULL: none
	if req.MaxAge != nil {
		a.MaxAge = int(min(*req.MaxAge, 1<<30))
		maxAge = a.MaxAge
	}
	_, err = s.o.db.W.ExecContext(ctx, `INSERT INTO oidc_auth_requests (id, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode,
		code_challenge, code_challenge_method, prompt, created_at, expires_at, max_age) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		a.ID, a.ClientID, a.RedirectURI, strings.Join(a.Scopes, " "), a.State, a.Nonce, a.ResponseType, a.ResponseMode, a.CodeChallenge,
		a.CodeChallengeMethd, clip(strings.Join(a.Prompt, " "), 100), a.CreatedAt, a.ExpiresAt, maxAge)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return a, nil
}

// authRequest returns a live (unexpired) authorization request.
func (o *OIDC) authRequest(ctx context.Context, id string) (*authRequest, error) {
	if len(id) > 64 {
		return nil, errAuthRequestGone
	}
	a, err := scanAuthRequest(o.db.R.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errAuthRequestGone
	}
	if err != nil {
		return nil, fmt.Errorf("identity.OIDC.authRequest: %w", err)
	}
	if !o.clock().Before(a.ExpiresAt) {
		return nil, errAuthRequestGone
	}
	return a, nil
}

func (s *opStorage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	a, err := s.o.authRequest(ctx, id)
	if err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown or expired authorization request").WithParent(err)
	}
	return a, nil
}

func (s *opStorage) SaveAuthCode(ctx context.Context, id, code string) error {
	now := s.o.clock()
	res, err := s.o.db.W.ExecContext(ctx, `UPDATE oidc_auth_requests SET code_hash = $1, code_expires_at = $2
		WHERE id = $3 AND done = TRUE AND code_hash IS NULL AND expires_at > $4`, authn.HashToken(code), now.Add(codeTTL), id, now)
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return oidc.ErrInvalidRequest().WithDescription("authorization request already answered")
	}
	return nil
}

// AuthRequestByCode spends the code: a code works once. Presenting it again
// revokes every token the first exchange produced (RFC 6749 §4.1.2).
func (s *opStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	if code == "" || len(code) > 512 {
		return nil, errors.New("malformed code")
	}
	now := s.o.clock()
	var a *authRequest
	var reused bool
	err := sqldb.InTx(ctx, s.o.db, func(tx *sql.Tx) error {
		a, reused = nil, false
		var used, expires sql.NullTime
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id, code_used_at, code_expires_at FROM oidc_auth_requests WHERE code_hash = $1`, authn.HashToken(code)).
			Scan(&id, &used, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if used.Valid {
			reused = true
			if err := revokeWhere(ctx, tx, now, `family = $2`, id); err != nil {
				return err
			}
			return audit.Write(ctx, tx, audit.Entry{Action: "identity.oidc.code.reuse", TargetType: "oidc_auth_request", TargetID: id})
		}
		if !expires.Valid || !now.Before(expires.Time) {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE oidc_auth_requests SET code_used_at = $1 WHERE id = $2 AND code_used_at IS NULL`, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		a, err = scanAuthRequest(tx.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE id = $1`, id))
		return err
	})
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if reused {
		return nil, errors.New("code already used: tokens from it revoked")
	}
	if a == nil {
		return nil, errors.New("unknown or expired code")
	}
	return a, nil
}

// DeleteAuthRequest keeps the row: a spent code must still be recognised
// if presented again. Purge removes it later.
func (s *opStorage) DeleteAuthRequest(context.Context, string) error { return nil }

// ---- tokens ----

// grant is what a token request carries over from the authorization.
type grant struct {
	family, clientID, accountID, actingFor, subject, acr string
	scopes                                               []string
	authTime, refreshExpires                             time.Time
	flow                                                 string // authorization_code or refresh_token
}

// refreshRequest is a refresh token presented at the token endpoint.
type refreshRequest struct {
	tokenID string
	grant
}

func (r *refreshRequest) GetAMR() []string             { return []string{"pwd"} }
func (r *refreshRequest) GetAudience() []string        { return []string{r.clientID} }
func (r *refreshRequest) GetAuthTime() time.Time       { return r.authTime }
func (r *refreshRequest) GetClientID() string          { return r.clientID }
func (r *refreshRequest) GetScopes() []string          { return r.scopes }
func (r *refreshRequest) GetSubject() string           { return r.subject }
func (r *refreshRequest) SetCurrentScopes(sc []string) { r.scopes = sc }

func grantOf(req op.TokenRequest) (grant, error) {
	switch r := req.(type) {
	case *authRequest:
		return grant{family: r.ID, clientID: r.ClientID, accountID: r.AccountID, actingFor: r.ActingFor, subject: r.Subject, acr: r.ACR,
			scopes: r.Scopes, authTime: r.AuthTime, flow: "authorization_code"}, nil
	case *refreshRequest:
		g := r.grant
		g.flow = "refresh_token"
		return g, nil
	}
	return grant{}, oidc.ErrUnsupportedGrantType()
}

func (s *opStorage) insertToken(ctx context.Context, tx *sql.Tx, kind string, g grant, refreshHash string, now, expires time.Time) (string, error) {
	id := sqldb.NewID()
	_, err := tx.ExecContext(ctx, `INSERT INTO oidc_tokens (id, kind, family, client_id, account_id, acting_for, subject, scopes, auth_time, acr,
		refresh_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		id, kind, g.family, g.clientID, g.accountID, g.actingFor, g.subject, strings.Join(g.scopes, " "), g.authTime, g.acr,
		sqldb.NullString(refreshHash), now, expires)
	return id, err
}

// clientActor is the audit actor of a client calling the token endpoints.
func clientActor(ctx context.Context, clientID string) context.Context {
	a := audit.ActorFrom(ctx)
	a.ID, a.Name, a.OnBehalfOf = "oidc_client:"+clientID, clientID, ""
	a.IP, a.RequestID = web.ClientIP(ctx), web.RequestID(ctx)
	return audit.WithActor(ctx, a)
}

func (s *opStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	id, _, exp, err := s.issue(ctx, req, "", false)
	return id, exp, err
}

func (s *opStorage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	return s.issue(ctx, req, current, true)
}

// issue stores an access token (and a new refresh token, spending current
// when rotating) and audits the issue, in one transaction.
func (s *opStorage) issue(ctx context.Context, req op.TokenRequest, current string, withRefresh bool) (string, string, time.Time, error) {
	g, err := grantOf(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	now := s.o.clock()
	accessExp := now.Add(s.o.set.AccessTTL)
	var refresh string
	if withRefresh {
		if refresh, err = authn.NewToken(); err != nil {
			return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
		}
		if g.refreshExpires.IsZero() {
			g.refreshExpires = now.Add(s.o.set.RefreshTTL)
		}
	}
	var accessID string
	var stale bool
	err = sqldb.InTx(ctx, s.o.db, func(tx *sql.Tx) error {
		stale = false
		if current != "" {
			res, err := tx.ExecContext(ctx, `UPDATE oidc_tokens SET rotated_at = $1 WHERE refresh_hash = $2 AND kind = 'refresh'
				AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $1`, now, authn.HashToken(current))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				stale = true // spent by a concurrent request, or revoked meanwhile
				return nil
			}
		}
		var err error
		if accessID, err = s.insertToken(ctx, tx, "access", g, "", now, accessExp); err != nil {
			return err
		}
		if withRefresh {
			if _, err := s.insertToken(ctx, tx, "refresh", g, authn.HashToken(refresh), now, g.refreshExpires); err != nil {
				return err
			}
		}
		return audit.Write(clientActor(ctx, g.clientID), tx, audit.Entry{Action: "identity.oidc.token", TargetType: "identity_account", TargetID: g.accountID,
			Detail: map[string]any{"client": g.clientID, "grant": g.flow, "refresh": withRefresh, "scopes": g.scopes}})
	})
	if err != nil {
		return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
	if stale {
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token already used")
	}
	return accessID, refresh, accessExp, nil
}

const tokenColumns = `id, kind, family, client_id, account_id, acting_for, subject, scopes, auth_time, acr, created_at, expires_at, rotated_at, revoked_at`

type tokenRow struct {
	id, kind string
	grant
	created, expires time.Time
	rotated, revoked sql.NullTime
}

func scanToken(sc interface{ Scan(...any) error }) (tokenRow, error) {
	var t tokenRow
	var scopes string
	err := sc.Scan(&t.id, &t.kind, &t.family, &t.clientID, &t.accountID, &t.actingFor, &t.subject, &scopes, &t.authTime, &t.acr,
		&t.created, &t.expires, &t.rotated, &t.revoked)
	t.scopes = strings.Fields(scopes)
	return t, err
}

func (s *opStorage) token(ctx context.Context, where string, arg any) (tokenRow, error) {
	return scanToken(s.o.db.R.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM oidc_tokens WHERE `+where, arg))
}

// TokenRequestByRefreshToken finds a live refresh token. One that was
// already rotated is a stolen copy or a replay: its whole family is revoked.
func (s *opStorage) TokenRequestByRefreshToken(ctx context.Context, refresh string) (op.RefreshTokenRequest, error) {
	if refresh == "" || len(refresh) > 200 {
		return nil, errors.New("malformed refresh token")
	}
	t, err := s.token(ctx, `refresh_hash = $1 AND kind = 'refresh'`, authn.HashToken(refresh))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errors.New("unknown refresh token")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	now := s.o.clock()
	if t.rotated.Valid && !t.revoked.Valid {
		err := sqldb.InTx(ctx, s.o.db, func(tx *sql.Tx) error {
			if err := revokeWhere(ctx, tx, now, `family = $2`, t.family); err != nil {
				return err
			}
			return audit.Write(clientActor(ctx, t.clientID), tx, audit.Entry{Action: "identity.oidc.refresh.reuse", TargetType: "identity_account",
				TargetID: t.accountID, Detail: map[string]string{"client": t.clientID, "family": t.family}})
		})
		if err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		return nil, errors.New("refresh token reused: grant revoked")
	}
	if t.revoked.Valid || t.rotated.Valid || !now.Before(t.expires) {
		return nil, errors.New("refresh token revoked or expired")
	}
	if a, err := s.o.ids.Account(ctx, t.accountID); err != nil || a.Disabled {
		return nil, errors.New("account unavailable")
	}
	g := t.grant
	g.refreshExpires = t.expires
	return &refreshRequest{tokenID: t.id, grant: g}, nil
}

func (s *opStorage) GetRefreshTokenInfo(ctx context.Context, clientID, refresh string) (string, string, error) {
	if refresh == "" || len(refresh) > 200 {
		return "", "", op.ErrInvalidRefreshToken
	}
	t, err := s.token(ctx, `refresh_hash = $1 AND kind = 'refresh'`, authn.HashToken(refresh))
	if errors.Is(err, sql.ErrNoRows) || err == nil && t.clientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", err
	}
	return t.subject, t.id, nil
}

// RevokeToken revokes an access token, or a refresh token with its whole
// family (RFC 7009). Unknown tokens are not an error.
func (s *opStorage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *oidc.Error {
	if len(tokenOrID) > 64 {
		return nil
	}
	t, err := s.token(ctx, `id = $1`, tokenOrID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if t.clientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	now := s.o.clock()
	err = sqldb.InTx(ctx, s.o.db, func(tx *sql.Tx) error {
		cond, arg := `id = $2`, t.id
		if t.kind == "refresh" {
			cond, arg = `family = $2`, t.family
		}
		if err := revokeWhere(ctx, tx, now, cond, arg); err != nil {
			return err
		}
		return audit.Write(clientActor(ctx, clientID), tx, audit.Entry{Action: "identity.oidc.revoke", TargetType: "identity_account", TargetID: t.accountID,
			Detail: map[string]string{"client": clientID, "kind": t.kind}})
	})
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// liveAccess returns the access token tokenID if it is live and belongs to subject.
func (s *opStorage) liveAccess(ctx context.Context, tokenID, subject string) (tokenRow, error) {
	if len(tokenID) > 64 {
		return tokenRow{}, errors.New("malformed token")
	}
	t, err := s.token(ctx, `id = $1 AND kind = 'access'`, tokenID)
	if err != nil {
		return tokenRow{}, errors.New("unknown token")
	}
	if t.subject != subject || t.revoked.Valid || !s.o.clock().Before(t.expires) {
		return tokenRow{}, errors.New("token revoked or expired")
	}
	return t, nil
}

// claims fills info with what the token's scopes release.
func (s *opStorage) claims(ctx context.Context, info *oidc.UserInfo, t tokenRow) error {
	a, err := s.o.ids.Account(ctx, t.accountID)
	if err != nil || a.Disabled {
		return errors.New("account unavailable")
	}
	info.Subject = t.subject
	info.AppendClaims("acr", ACR(a.Assurance))
	info.AppendClaims("assurance_level", int(a.Assurance))
	for _, sc := range t.scopes {
		switch sc {
		case ScopeProfile:
			info.Name = a.Name
		case ScopePhone:
			if a.Phone != "" {
				info.PhoneNumber = "+86" + a.Phone
				info.PhoneNumberVerified = oidc.Bool(a.Kind == Person)
			}
		case ScopeIDNumber:
			if a.Kind == Person && a.IDNumber != "" {
				info.AppendClaims("id_number", a.IDNumber)
			}
		case ScopeEnterprise:
			ent := a
			if t.actingFor != "" {
				if ent, err = s.o.ids.Account(ctx, t.actingFor); err != nil {
					return errors.New("enterprise unavailable")
				}
			}
			if ent.Kind == Legal {
				info.AppendClaims("enterprise", map[string]string{"name": ent.Name, "uscc": ent.USCC})
			}
		}
	}
	return nil
}

func (s *opStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.liveAccess(ctx, tokenID, subject)
	if err != nil {
		return oidc.ErrInvalidRequest().WithDescription("invalid_token")
	}
	return s.claims(ctx, info, t)
}

// SetIntrospectionFromToken answers only the client the token was issued
// to: one system cannot probe another's tokens.
func (s *opStorage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.liveAccess(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if t.clientID != clientID {
		return errors.New("token of another client")
	}
	info := new(oidc.UserInfo)
	if err := s.claims(ctx, info, t); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope, resp.ClientID, resp.TokenType = t.scopes, t.clientID, oidc.BearerToken
	resp.Expiration, resp.IssuedAt, resp.AuthTime = oidc.FromTime(t.expires), oidc.FromTime(t.created), oidc.FromTime(t.authTime)
	resp.Audience, resp.Issuer, resp.JWTID = []string{t.clientID}, op.IssuerFromContext(ctx), t.id
	return nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest is used.
func (s *opStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token: it carries no personal data
// (an ID token travels in URLs, as id_token_hint), only the assurance level;
// claims come from the userinfo endpoint.
func (s *opStorage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	var acr string
	switch r := req.(type) {
	case *authRequest:
		acr = r.ACR
	case *refreshRequest:
		acr = r.acr
	}
	info.Subject = req.GetSubject() // SetUserInfo copies it over the token's sub
	if l := levelOfACR(acr); l > 0 {
		info.AppendClaims("assurance_level", int(l))
	}
	return nil
}

func (s *opStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *opStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT client authentication is not supported")
}

func (s *opStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the JWT profile grant is not supported")
}

// ---- sessions ----

func (s *opStorage) TerminateSession(context.Context, string, string) error { return nil }

type logoutKey struct{}

// TerminateSessionFromRequest ends the portal session too when the
// id_token_hint names the signed-in holder (so a forged logout link cannot
// sign anyone out), and revokes the client's tokens for them.
func (s *opStorage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	cz, ok := CitizenFrom(ctx)
	token, _ := ctx.Value(logoutKey{}).(string)
	if !ok || token == "" || req.IDTokenHintClaims == nil || req.ClientID == "" {
		return req.RedirectURI, nil
	}
	c, err := s.enabledClient(ctx, req.ClientID)
	if err != nil || s.o.Subject(c, cz.Account.ID) != req.IDTokenHintClaims.GetSubject() {
		return req.RedirectURI, nil
	}
	now := s.o.clock()
	err = sqldb.InTx(ctx, s.o.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM identity_sessions WHERE id = $1`, cz.Session.ID); err != nil {
			return err
		}
		if err := revokeWhere(ctx, tx, now, `account_id = $2 AND client_id = $3`, cz.Account.ID, c.ID); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "identity.sso.logout", TargetType: "identity_account", TargetID: cz.Account.ID,
			Detail: map[string]string{"client": c.ID}})
	})
	if err != nil {
		return "", oidc.ErrServerError().WithParent(err)
	}
	return req.RedirectURI, nil
}

// ---- keys ----

func (s *opStorage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, err := s.o.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	return k, nil
}

func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *opStorage) KeySet(ctx context.Context) ([]op.Key, error) { return s.o.publicKeys(ctx) }

func (s *opStorage) Health(ctx context.Context) error { return s.o.db.Ping(ctx) }

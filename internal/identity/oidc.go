package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/zitadel/oidc/v3/pkg/op"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/sqldb"
)

// The scopes a connected system may ask for. openid is required; the others
// release claims only to systems entitled to them in their registration.
const (
	ScopeOpenID     = "openid"         // sub (pairwise by default), acr, assurance_level
	ScopeProfile    = "profile"        // name
	ScopePhone      = "phone"          // phone_number, phone_number_verified
	ScopeIDNumber   = "id_number"      // id_number (公民身份号码): sensitive, only for entitled systems
	ScopeEnterprise = "enterprise"     // enterprise {name, uscc} when acting as 经办人 (or signed in as a legal person)
	ScopeOffline    = "offline_access" // refresh tokens
)

// Scopes lists every scope a client can be entitled to, in display order.
var Scopes = []string{ScopeOpenID, ScopeProfile, ScopePhone, ScopeIDNumber, ScopeEnterprise, ScopeOffline}

// ScopeLabels say in zh-CN what a scope releases, for the consent page,
// the account page and the console.
var ScopeLabels = map[string]string{
	ScopeOpenID:     "账号标识（每个系统各不相同）和实名等级",
	ScopeProfile:    "姓名（或单位名称）",
	ScopePhone:      "手机号码",
	ScopeIDNumber:   "公民身份号码",
	ScopeEnterprise: "您所代表的单位（名称、统一社会信用代码）",
	ScopeOffline:    "在您离开后保持登录（刷新令牌）",
}

// Client auth methods.
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
	AuthNone  = "none" // public client: PKCE (S256) instead of a secret
)

// Subject types.
const (
	SubjectPairwise = "pairwise"
	SubjectPublic   = "public"
)

// Client is a system registered to sign people in through our OpenID
// Connect provider (接入系统).
type Client struct {
	ID             string
	Name           string
	SecretHash     string
	AuthMethod     string
	RedirectURIs   []string
	PostLogoutURIs []string
	Scopes         []string // entitled scopes
	SubjectType    string
	SectorID       string
	Refresh        bool // may hold refresh tokens (offline_access)
	Disabled       bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Version        int
}

// Public reports whether c is a public client (no secret).
func (c Client) Public() bool { return c.AuthMethod == AuthNone }

// Entitled reports whether c may receive scope.
func (c Client) Entitled(scope string) bool {
	if scope == ScopeOffline {
		return c.Refresh
	}
	return slices.Contains(c.Scopes, scope)
}

// ScopeNames returns the zh-CN labels of scopes (unknown ones as is).
func ScopeNames(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if l, ok := ScopeLabels[s]; ok {
			out = append(out, l)
		}
	}
	return out
}

// ClientInput is what the console or the CLI supplies for a client. Text
// fields come straight from forms and flags; Check parses them.
type ClientInput struct {
	ID             string
	Name           string
	Secret         string // confidential clients: a new secret ("" keeps the old one when editing)
	AuthMethod     string
	RedirectURIs   string // one per line (or comma-separated)
	PostLogoutURIs string
	Scopes         []string
	SubjectType    string
	SectorID       string
	Refresh        bool
	Version        int
}

var clientIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// MinSecretLen is the shortest client secret accepted: secrets are
// machine-held random strings, stored with a fast hash.
const MinSecretLen = 24

// ParseURIs splits text (one URI per line, or separated by commas or
// spaces) into redirect URIs and checks each: absolute http(s) or, for
// native apps, a private-use scheme; no fragment, no wildcard, at most 20.
// https is required unless httpOK (confidential clients on an intranet, or
// loopback). It never panics on any input.
func ParseURIs(text string, httpOK bool) ([]string, error) {
	const op = "identity.ParseURIs"
	bad := func(msg string) error { return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg} }
	if len(text) > 20*2048 {
		return nil, bad("地址过长")
	}
	var out []string
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' || r == '\t' }) {
		if len(f) > 2000 || !utf8.ValidString(f) {
			return nil, bad("地址过长或含无效字符")
		}
		u, err := url.Parse(f)
		if err != nil || u.Scheme == "" || u.Opaque != "" {
			return nil, bad("“" + clipRunes(f, 60) + "”不是完整的地址（需以 https:// 开头）")
		}
		if u.Fragment != "" || strings.Contains(f, "#") || strings.Contains(f, "*") {
			return nil, bad("地址不能包含 # 或通配符 *")
		}
		switch u.Scheme {
		case "https":
			if u.Host == "" {
				return nil, bad("“" + clipRunes(f, 60) + "”缺少主机名")
			}
		case "http":
			loopback := u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" || u.Hostname() == "::1"
			if u.Host == "" || (!httpOK && !loopback) {
				return nil, bad("“" + clipRunes(f, 60) + "”须使用 https")
			}
		default:
			return nil, bad("“" + clipRunes(f, 60) + "”须使用 https")
		}
		if u.User != nil {
			return nil, bad("地址不能包含用户名或密码")
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) > 20 {
		return nil, bad("最多登记20个地址")
	}
	return out, nil
}

// ParseScopes splits a comma- or space-separated scope list and keeps known
// scopes (openid always included). Unknown names are an error.
func ParseScopes(text string) ([]string, error) {
	out := []string{ScopeOpenID}
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if !slices.Contains(Scopes, f) {
			return nil, &errs.Error{Kind: errs.Invalid, Op: "identity.ParseScopes", Msg: "未知的授权范围“" + clipRunes(f, 30) + "”"}
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

func clipRunes(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// check parses in into a Client; creating says whether the id and a secret
// are required.
func (in ClientInput) check(creating bool) (Client, error) {
	f := map[string]string{}
	c := Client{ID: strings.TrimSpace(in.ID), Name: strings.TrimSpace(in.Name), AuthMethod: in.AuthMethod, SubjectType: in.SubjectType,
		SectorID: strings.TrimSpace(in.SectorID), Refresh: in.Refresh, Version: in.Version}
	if creating && !clientIDRE.MatchString(c.ID) {
		f["id"] = "标识须为3至64位小写字母、数字、点、下划线或短横线，以字母或数字开头"
	}
	if n := utf8.RuneCountInString(c.Name); n < 2 || n > 60 || !utf8.ValidString(c.Name) {
		f["name"] = "请填写2至60个字的系统名称"
	}
	if c.AuthMethod == "" {
		c.AuthMethod = AuthBasic
	}
	if c.AuthMethod != AuthBasic && c.AuthMethod != AuthPost && c.AuthMethod != AuthNone {
		f["auth_method"] = "请选择客户端认证方式"
	}
	if c.SubjectType == "" {
		c.SubjectType = SubjectPairwise
	}
	if c.SubjectType != SubjectPairwise && c.SubjectType != SubjectPublic {
		f["subject_type"] = "请选择用户标识类型"
	}
	if c.SectorID != "" && !clientIDRE.MatchString(c.SectorID) {
		f["sector_id"] = "扇区标识的格式与系统标识相同"
	}
	httpOK := c.AuthMethod != AuthNone
	var err error
	if c.RedirectURIs, err = ParseURIs(in.RedirectURIs, httpOK); err != nil {
		f["redirect_uris"] = errs.Message(err)
	} else if len(c.RedirectURIs) == 0 {
		f["redirect_uris"] = "请至少登记一个回调地址"
	}
	if c.PostLogoutURIs, err = ParseURIs(in.PostLogoutURIs, httpOK); err != nil {
		f["post_logout_uris"] = errs.Message(err)
	}
	c.Scopes = []string{ScopeOpenID}
	for _, s := range in.Scopes {
		if s == ScopeOffline {
			c.Refresh = true
			continue
		}
		if !slices.Contains(Scopes, s) {
			f["scopes"] = "未知的授权范围"
		} else if !slices.Contains(c.Scopes, s) {
			c.Scopes = append(c.Scopes, s)
		}
	}
	if c.AuthMethod != AuthNone && (creating || in.Secret != "") {
		if len(in.Secret) < MinSecretLen || len(in.Secret) > 200 {
			f["secret"] = fmt.Sprintf("客户端密钥须为%d至200个字符的随机字符串", MinSecretLen)
		}
	}
	if len(f) > 0 {
		return Client{}, &errs.Error{Kind: errs.Invalid, Op: "identity.ClientInput.check", Msg: "请按提示修改接入系统信息", Fields: f}
	}
	return c, nil
}

// NewSecret returns a random client secret (256 bits, URL-safe).
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret returns "sha256$salt$digest" of secret.
func hashSecret(secret string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	return "sha256$" + base64.RawURLEncoding.EncodeToString(salt) + "$" + secretDigest(salt, secret)
}

func secretDigest(salt []byte, secret string) string {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// secretMatches compares secret with a stored hash in constant time.
func secretMatches(stored, secret string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 3 || parts[0] != "sha256" || secret == "" || len(secret) > 200 {
		return false
	}
	salt, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(secretDigest(salt, secret)), []byte(parts[2])) == 1
}

// OIDCSettings configure the OpenID Connect provider.
type OIDCSettings struct {
	// Issuer is the public base URL (config base_url); "" derives it from
	// each request's host (development only: the Host header is trusted).
	Issuer string
	// Secret encrypts the signing keys' private halves at rest. Without it
	// they are stored in the clear and the database is their only protection.
	Secret string
	// KeyRotation is how long a signing key signs before a new one takes
	// over [30 days]; the old one stays published for KeyRetention.
	KeyRotation  time.Duration
	KeyRetention time.Duration // [7 days]
	AccessTTL    time.Duration // access tokens [10 minutes]
	IDTokenTTL   time.Duration // ID tokens [10 minutes]
	RefreshTTL   time.Duration // a refresh token family's whole life [30 days]
	LoginPath    string        // the citizen sign-in page ["/login"]
}

func (s OIDCSettings) withDefaults() OIDCSettings {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&s.KeyRotation, 30*24*time.Hour)
	def(&s.KeyRetention, 7*24*time.Hour)
	def(&s.AccessTTL, 10*time.Minute)
	def(&s.IDTokenTTL, 10*time.Minute)
	def(&s.RefreshTTL, 30*24*time.Hour)
	if s.LoginPath == "" {
		s.LoginPath = "/login"
	}
	s.Issuer = strings.TrimRight(s.Issuer, "/")
	return s
}

// Timings of the authorization flow.
const (
	authRequestTTL = 15 * time.Minute // to sign in and consent
	codeTTL        = time.Minute      // to exchange a code
	keyPublishLead = 2 * time.Minute  // a new key is published this long before it signs
	keyCacheTTL    = time.Minute      // each node rereads the keys this often
)

// OIDC is the OpenID Connect provider (统一身份认证单点登录) through which
// the province's vertical systems sign people in.
type OIDC struct {
	db          *sqldb.DB
	ids         *Service
	set         OIDCSettings
	now         func() time.Time
	pairwiseKey []byte
	sealKey     [32]byte
	provider    *op.Provider
	storage     *opStorage

	mu   sync.Mutex
	keys keyCache
}

// NewOIDC returns the provider: it loads (or makes, on first start) its
// shared secrets and a signing key.
func NewOIDC(ctx context.Context, db *sqldb.DB, ids *Service, set OIDCSettings) (*OIDC, error) {
	o := &OIDC{db: db, ids: ids, set: set.withDefaults(), now: sqldb.Now}
	pw, err := o.secret(ctx, "pairwise")
	if err != nil {
		return nil, err
	}
	seal, err := o.secret(ctx, "seal")
	if err != nil {
		return nil, err
	}
	o.pairwiseKey, o.sealKey = pw, sha256.Sum256(seal)
	if _, err := o.signingKey(ctx); err != nil {
		return nil, err
	}
	if err := o.newProvider(); err != nil {
		return nil, err
	}
	return o, nil
}

// SetClock replaces the clock (tests).
func (o *OIDC) SetClock(now func() time.Time) {
	o.mu.Lock()
	o.now = now
	o.keys = keyCache{}
	o.mu.Unlock()
}

func (o *OIDC) clock() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.now()
}

// secret returns the shared random secret name, making it on first use.
func (o *OIDC) secret(ctx context.Context, name string) ([]byte, error) {
	b := make([]byte, 32)
	rand.Read(b)
	if _, err := o.db.W.ExecContext(ctx, `INSERT INTO oidc_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
		name, base64.RawURLEncoding.EncodeToString(b), sqldb.Now()); err != nil {
		return nil, fmt.Errorf("identity.OIDC.secret: %w", err)
	}
	var v string
	if err := o.db.W.QueryRowContext(ctx, `SELECT value FROM oidc_secrets WHERE name = $1`, name).Scan(&v); err != nil {
		return nil, fmt.Errorf("identity.OIDC.secret: %w", err)
	}
	return base64.RawURLEncoding.DecodeString(v)
}

// Subject is the sub a client sees for an account: by default an HMAC of
// the client's sector (its sector id, or its own id) and the account id, so
// two systems cannot correlate one person; the account id itself for a
// client registered with the public subject type.
func (o *OIDC) Subject(c Client, accountID string) string {
	if c.SubjectType == SubjectPublic {
		return accountID
	}
	sector := c.SectorID
	if sector == "" {
		sector = c.ID
	}
	m := hmac.New(sha256.New, o.pairwiseKey)
	m.Write([]byte(sector))
	m.Write([]byte{0})
	m.Write([]byte(accountID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ACR is the acr value of an assurance level.
func ACR(l Level) string { return fmt.Sprintf("urn:yiwang:loa:%d", l) }

func levelOfACR(acr string) Level {
	var l Level
	fmt.Sscanf(acr, "urn:yiwang:loa:%d", &l)
	return l
}

// ---- clients ----

const clientColumns = `id, name, secret_hash, auth_method, redirect_uris, post_logout_uris, scopes, subject_type, sector_id, refresh, disabled,
	created_at, updated_at, version`

func scanClient(sc interface{ Scan(...any) error }) (Client, error) {
	var c Client
	var redirects, logouts, scopes string
	err := sc.Scan(&c.ID, &c.Name, &c.SecretHash, &c.AuthMethod, &redirects, &logouts, &scopes, &c.SubjectType, &c.SectorID, &c.Refresh,
		&c.Disabled, &c.CreatedAt, &c.UpdatedAt, &c.Version)
	if err != nil {
		return c, err
	}
	if err := errors.Join(json.Unmarshal([]byte(redirects), &c.RedirectURIs), json.Unmarshal([]byte(logouts), &c.PostLogoutURIs),
		json.Unmarshal([]byte(scopes), &c.Scopes)); err != nil {
		return c, fmt.Errorf("identity.scanClient(%s): %w", c.ID, err)
	}
	return c, nil
}

var errNoClient = &errs.Error{Kind: errs.NotFound, Op: "identity.OIDC.Client", Msg: "接入系统不存在"}

// Client returns the client with id, enabled or not.
func (o *OIDC) Client(ctx context.Context, id string) (Client, error) {
	c, err := scanClient(o.db.R.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM oidc_clients WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Client{}, errNoClient
	}
	if err != nil {
		return Client{}, fmt.Errorf("identity.OIDC.Client: %w", err)
	}
	return c, nil
}

// Clients lists every client by name.
func (o *OIDC) Clients(ctx context.Context) ([]Client, error) {
	rows, err := o.db.R.QueryContext(ctx, `SELECT `+clientColumns+` FROM oidc_clients ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("identity.OIDC.Clients: %w", err)
	}
	defer rows.Close()
	var out []Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func mayManage(p *authz.Principal, op string) error {
	if !p.CanAny(authz.ManageClients) {
		return &errs.Error{Kind: errs.Forbidden, Op: op, Msg: "您没有管理接入系统的权限"}
	}
	return nil
}

func jsonText(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// AddClient registers a client. p must hold ManageClients (nil p: the CLI,
// acting as the system).
func (o *OIDC) AddClient(ctx context.Context, p *authz.Principal, in ClientInput) (Client, error) {
	const op = "identity.OIDC.AddClient"
	if p != nil {
		if err := mayManage(p, op); err != nil {
			return Client{}, err
		}
	}
	c, err := in.check(true)
	if err != nil {
		return Client{}, err
	}
	if !c.Public() {
		c.SecretHash = hashSecret(in.Secret)
	}
	now := o.clock()
	err = sqldb.InTx(ctx, o.db, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_clients (`+clientColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE, $11, $11, 1)`,
			c.ID, c.Name, c.SecretHash, c.AuthMethod, jsonText(c.RedirectURIs), jsonText(c.PostLogoutURIs), jsonText(c.Scopes), c.SubjectType,
			c.SectorID, c.Refresh, now)
		if sqldb.IsUniqueViolation(err) {
			return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "该系统标识已被使用", Fields: map[string]string{"id": "该系统标识已被使用"}, Err: err}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "identity.oidc.client.create", TargetType: "oidc_client", TargetID: c.ID,
			Detail: clientDetail(c)})
	})
	if err != nil {
		return Client{}, err
	}
	return o.Client(ctx, c.ID)
}

func clientDetail(c Client) map[string]any {
	return map[string]any{"name": c.Name, "auth_method": c.AuthMethod, "redirect_uris": c.RedirectURIs, "post_logout_uris": c.PostLogoutURIs,
		"scopes": c.Scopes, "subject_type": c.SubjectType, "sector_id": c.SectorID, "refresh": c.Refresh}
}

// UpdateClient changes a client's registration (and its secret when
// in.Secret is set). Narrowing what it may receive revokes its tokens.
func (o *OIDC) UpdateClient(ctx context.Context, p *authz.Principal, id string, in ClientInput) (Client, error) {
	const op = "identity.OIDC.UpdateClient"
	if err := mayManage(p, op); err != nil {
		return Client{}, err
	}
	c, err := in.check(false)
	if err != nil {
		return Client{}, err
	}
	old, err := o.Client(ctx, id)
	if err != nil {
		return Client{}, err
	}
	c.ID, c.SecretHash = id, old.SecretHash
	if c.Public() {
		c.SecretHash = ""
	} else if in.Secret != "" {
		c.SecretHash = hashSecret(in.Secret)
	} else if old.SecretHash == "" {
		return Client{}, &errs.Error{Kind: errs.Invalid, Op: op, Msg: "请设置客户端密钥", Fields: map[string]string{"secret": "改为机密客户端时须设置密钥"}}
	}
	narrowed := !c.Refresh && old.Refresh || c.SubjectType != old.SubjectType || c.SectorID != old.SectorID
	for _, s := range old.Scopes {
		narrowed = narrowed || !slices.Contains(c.Scopes, s)
	}
	now := o.clock()
	err = sqldb.InTx(ctx, o.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oidc_clients SET name = $1, secret_hash = $2, auth_method = $3, redirect_uris = $4, post_logout_uris = $5,
			scopes = $6, subject_type = $7, sector_id = $8, refresh = $9, updated_at = $10, version = version + 1 WHERE id = $11 AND version = $12`,
			c.Name, c.SecretHash, c.AuthMethod, jsonText(c.RedirectURIs), jsonText(c.PostLogoutURIs), jsonText(c.Scopes), c.SubjectType, c.SectorID,
			c.Refresh, now, id, in.Version)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &errs.Error{Kind: errs.Conflict, Op: op, Msg: "该接入系统已被他人修改，请刷新后重试"}
		}
		if narrowed {
			if err := revokeWhere(ctx, tx, now, `client_id = $2`, id); err != nil {
				return err
			}
		}
		d := clientDetail(c)
		d["secret_changed"], d["tokens_revoked"] = in.Secret != "", narrowed
		return audit.Write(ctx, tx, audit.Entry{Action: "identity.oidc.client.update", TargetType: "oidc_client", TargetID: id, Detail: d})
	})
	if err != nil {
		return Client{}, err
	}
	return o.Client(ctx, id)
}

// SetClientDisabled disables (revoking every token it holds) or enables a client.
func (o *OIDC) SetClientDisabled(ctx context.Context, p *authz.Principal, id string, disabled bool) error {
	const op = "identity.OIDC.SetClientDisabled"
	if err := mayManage(p, op); err != nil {
		return err
	}
	now := o.clock()
	return sqldb.InTx(ctx, o.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oidc_clients SET disabled = $1, updated_at = $2, version = version + 1 WHERE id = $3`, disabled, now, id)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNoClient
		}
		action := "identity.oidc.client.enable"
		if disabled {
			action = "identity.oidc.client.disable"
			if err := revokeWhere(ctx, tx, now, `client_id = $2`, id); err != nil {
				return err
			}
		}
		return audit.Write(ctx, tx, audit.Entry{Action: action, TargetType: "oidc_client", TargetID: id})
	})
}

// revokeWhere revokes the live tokens matching cond (its arguments start at $2).
func revokeWhere(ctx context.Context, tx *sql.Tx, now time.Time, cond string, args ...any) error {
	_, err := tx.ExecContext(ctx, `UPDATE oidc_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND `+cond, append([]any{now}, args...)...)
	if err != nil {
		return fmt.Errorf("identity.revokeWhere: %w", err)
	}
	return nil
}

// ---- consents (what each system received) ----

// Systems lists the systems the account has signed in to through SSO and
// what each receives, latest first (identity.SystemLister).
func (o *OIDC) Systems(ctx context.Context, accountID string) ([]SystemGrant, error) {
	rows, err := o.db.R.QueryContext(ctx, `SELECT g.client_id, c.name, g.scopes, g.first_at, g.last_at FROM oidc_consents g
		JOIN oidc_clients c ON c.id = g.client_id WHERE g.account_id = $1 ORDER BY g.last_at DESC`, accountID)
	if err != nil {
		return nil, fmt.Errorf("identity.OIDC.Systems: %w", err)
	}
	defer rows.Close()
	var out []SystemGrant
	for rows.Next() {
		var g SystemGrant
		var scopes string
		if err := rows.Scan(&g.ClientID, &g.ClientName, &scopes, &g.FirstAt, &g.LastAt); err != nil {
			return nil, err
		}
		g.Claims = ScopeNames(orderScopes(strings.Fields(scopes)))
		out = append(out, g)
	}
	return out, rows.Err()
}

// RevokeSystem forgets the account's consent to a system and revokes every
// token the system holds for it; its next sign-in asks again.
func (o *OIDC) RevokeSystem(ctx context.Context, accountID, clientID string) error {
	const op = "identity.OIDC.RevokeSystem"
	now := o.clock()
	return sqldb.InTx(ctx, o.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM oidc_consents WHERE account_id = $1 AND client_id = $2`, accountID, clientID)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &errs.Error{Kind: errs.NotFound, Op: op, Msg: "授权不存在或已取消"}
		}
		if err := revokeWhere(ctx, tx, now, `account_id = $2 AND client_id = $3`, accountID, clientID); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "identity.oidc.consent.revoke", TargetType: "identity_account", TargetID: accountID,
			Detail: map[string]string{"client": clientID}})
	})
}

// consented returns the scopes the account has consented to for the client.
func (o *OIDC) consented(ctx context.Context, accountID, clientID string) ([]string, error) {
	var scopes string
	err := o.db.R.QueryRowContext(ctx, `SELECT scopes FROM oidc_consents WHERE account_id = $1 AND client_id = $2`, accountID, clientID).Scan(&scopes)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("identity.OIDC.consented: %w", err)
	}
	return strings.Fields(scopes), nil
}

// orderScopes sorts scopes in the order of Scopes.
func orderScopes(s []string) []string {
	out := slices.Clone(s)
	slices.SortFunc(out, func(a, b string) int { return slices.Index(Scopes, a) - slices.Index(Scopes, b) })
	return out
}

// grantable narrows requested scopes to what c is entitled to and what the
// signed-in holder can give: enterprise only when acting for one (or
// signed in as a legal person), id_number only for a person.
func grantable(c Client, requested []string, cz *Citizen) []string {
	var out []string
	for _, s := range requested {
		ok := c.Entitled(s)
		switch s {
		case ScopeEnterprise:
			ok = ok && (cz.Acting != nil || cz.Account.Kind == Legal)
		case ScopeIDNumber:
			ok = ok && cz.Account.Kind == Person && cz.Account.IDNumber != ""
		}
		if ok && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return orderScopes(out)
}

// complete binds the authorization request id to the signed-in holder with
// the granted scopes, remembers the consent, and records the sign-in in the
// account's history and the audit log, all in one transaction.
func (o *OIDC) complete(ctx context.Context, ar *authRequest, c Client, cz *Citizen, scopes []string, ip, ua string) error {
	const op = "identity.OIDC.complete"
	now := o.clock()
	sub := o.Subject(c, cz.Account.ID)
	acting := ""
	if cz.Acting != nil {
		acting = cz.Acting.ID
	}
	authTime := cz.Session.CreatedAt
	if authTime.IsZero() {
		authTime = now
	}
	return sqldb.InTx(ctx, o.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oidc_auth_requests SET account_id = $1, acting_for = $2, subject = $3, auth_time = $4, acr = $5,
			scopes = $6, done = TRUE WHERE id = $7 AND done = FALSE AND expires_at > $8`,
			cz.Account.ID, acting, sub, authTime, ACR(cz.Account.Assurance), strings.Join(scopes, " "), ar.ID, now)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errAuthRequestGone
		}
		prev, err := o.consentedTx(ctx, tx, cz.Account.ID, c.ID)
		if err != nil {
			return err
		}
		merged := orderScopes(union(prev, consentTokens(scopes, cz)))
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_consents (id, client_id, account_id, scopes, first_at, last_at) VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (account_id, client_id) DO UPDATE SET scopes = $4, last_at = $5`, sqldb.NewID(), c.ID, cz.Account.ID, strings.Join(merged, " "), now); err != nil {
			return fmt.Errorf("%s: consent: %w", op, err)
		}
		if err := o.ids.recordSSO(ctx, tx, cz.Account.ID, c.ID, ip, ua); err != nil {
			return err
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "identity.sso.login", TargetType: "identity_account", TargetID: cz.Account.ID,
			Detail: map[string]any{"client": c.ID, "scopes": scopes, "acting_for": acting}})
	})
}

func (o *OIDC) consentedTx(ctx context.Context, tx *sql.Tx, accountID, clientID string) ([]string, error) {
	var scopes string
	err := tx.QueryRowContext(ctx, `SELECT scopes FROM oidc_consents WHERE account_id = $1 AND client_id = $2`, accountID, clientID).Scan(&scopes)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return strings.Fields(scopes), err
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// consentTokens are what a consent to scopes is remembered as: the scopes
// and, with enterprise, which enterprise's name and credit code were
// released, so acting for another enterprise asks again.
func consentTokens(scopes []string, cz *Citizen) []string {
	out := slices.Clone(scopes)
	if slices.Contains(scopes, ScopeEnterprise) {
		ent := cz.Account.ID
		if cz.Acting != nil {
			ent = cz.Acting.ID
		}
		out = append(out, ScopeEnterprise+":"+ent)
	}
	return out
}

func subset(a, b []string) bool {
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}

var errAuthRequestGone = &errs.Error{Kind: errs.NotFound, Op: "identity.OIDC", Msg: "登录请求已失效，请返回原系统重新登录"}

// Purge deletes authorization requests and tokens that expired more than a
// day ago; it returns how many rows went.
func (o *OIDC) Purge(ctx context.Context) (int64, error) {
	cut := o.clock().Add(-24 * time.Hour)
	var total int64
	for _, q := range []string{`DELETE FROM oidc_auth_requests WHERE expires_at < $1`, `DELETE FROM oidc_tokens WHERE expires_at < $1`} {
		res, err := o.db.W.ExecContext(ctx, q, cut)
		if err != nil {
			return total, fmt.Errorf("identity.OIDC.Purge: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

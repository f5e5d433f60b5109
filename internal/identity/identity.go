package identity

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/idcode"
)

// Kind is a kind of account holder.
type Kind string

// The kinds.
const (
	Person Kind = "person" // 自然人
	Legal  Kind = "legal"  // 法人（企业、社会组织、事业单位等）
)

// KindLabels names the kinds in zh-CN.
var KindLabels = map[Kind]string{Person: "个人", Legal: "法人"}

// Level is an assurance level (实名等级). Higher levels are stronger; a
// service item may require a minimum.
type Level int

// The levels and how they are reached.
const (
	LevelPhone    Level = 1 // 手机号验证
	LevelRegistry Level = 2 // 身份信息比对（经数据共享交换核验，待开通）
	LevelFace     Level = 3 // 人脸识别核验（待开通）
	LevelCounter  Level = 4 // 窗口现场核验：工作人员当面核验证件
)

// LevelLabels names the levels in zh-CN.
var LevelLabels = map[Level]string{LevelPhone: "一级（手机号验证）", LevelRegistry: "二级（身份信息比对）",
	LevelFace: "三级（人脸识别核验）", LevelCounter: "四级（窗口现场核验）"}

// Methods of reaching a level, as recorded.
const (
	MethodPhone    = "phone"    // a code sent to the phone was entered
	MethodRegistry = "registry" // checked against a registry through the exchange
	MethodCounter  = "counter"  // a clerk saw the document at a window
	MethodImport   = "import"   // created by an operator (CLI, onboarding)
)

// MethodLabels names the methods in zh-CN.
var MethodLabels = map[string]string{MethodPhone: "手机验证码", MethodRegistry: "身份信息比对", MethodCounter: "窗口现场核验", MethodImport: "管理员录入"}

// Account is one account (统一身份认证账号).
type Account struct {
	ID              string
	Kind            Kind
	Name            string    // 姓名 or 单位名称
	IDNumber        string    // person: 公民身份号码
	USCC            string    // legal: 统一社会信用代码
	Phone           string    // person: verified mobile; legal: contact
	LegalRep        string    // legal: 法定代表人
	Email           string    // optional 电子邮箱, "" for none; receives notices only once verified
	EmailVerifiedAt time.Time // zero until the holder entered the code sent to Email
	Assurance       Level
	AssuranceMethod string
	AssuranceAt     time.Time
	PasswordHash    string
	FailedLogins    int
	LockedUntil     time.Time
	Disabled        bool
	LastLoginAt     time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Version         int
}

// Locked reports whether sign-in is refused until LockedUntil.
func (a Account) Locked(now time.Time) bool { return a.LockedUntil.After(now) }

// Username is what the holder signs in with.
func (a Account) Username() string {
	if a.Kind == Legal {
		return a.USCC
	}
	return a.IDNumber
}

// MaskedIDNumber shows the first 6 and last 4 characters only (as on
// receipts), for pages that need not show the whole number.
func (a Account) MaskedIDNumber() string { return mask(a.IDNumber, 6, 4) }

// MaskedPhone shows the first 3 and last 4 digits.
func (a Account) MaskedPhone() string { return mask(a.Phone, 3, 4) }

// EmailVerified reports whether the account has an e-mail address its
// holder proved; only such an address receives notices.
func (a Account) EmailVerified() bool { return a.Email != "" && !a.EmailVerifiedAt.IsZero() }

// MaskedEmail shows the first character of the mailbox and the domain
// (w***@example.com), for audit entries and messages.
func MaskedEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 1 {
		return ""
	}
	return addr[:1] + "***" + addr[at:]
}

func mask(s string, head, tail int) string {
	if len(s) <= head+tail {
		return s
	}
	return s[:head] + strings.Repeat("*", len(s)-head-tail) + s[len(s)-tail:]
}

var phoneRE = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// ValidPhone reports whether s is a mainland mobile number (11 digits).
func ValidPhone(s string) bool { return phoneRE.MatchString(s) }

// NewAccount is what registration (or an operator) supplies.
type NewAccount struct {
	Kind     Kind
	Name     string
	IDNumber string
	USCC     string
	Phone    string
	LegalRep string
	Password string
}

// Check normalises in and reports every problem, each on its field.
func (in *NewAccount) Check(now time.Time) error {
	in.Name = strings.TrimSpace(in.Name)
	in.IDNumber = strings.ToUpper(strings.TrimSpace(in.IDNumber))
	in.USCC = strings.ToUpper(strings.TrimSpace(in.USCC))
	in.Phone = strings.TrimSpace(in.Phone)
	in.LegalRep = strings.TrimSpace(in.LegalRep)
	f := map[string]string{}
	nameLen := utf8.RuneCountInString(in.Name)
	switch in.Kind {
	case Person:
		if nameLen < 2 || nameLen > 30 || !utf8.ValidString(in.Name) {
			f["name"] = "请填写2至30个字的真实姓名"
		}
		if _, err := idcode.ParseIDNumber(in.IDNumber, now); err != nil {
			f["id_number"] = errs.Message(err)
		}
		if !ValidPhone(in.Phone) {
			f["phone"] = "请填写11位手机号码"
		}
		in.USCC, in.LegalRep = "", ""
	case Legal:
		if nameLen < 2 || nameLen > 100 || !utf8.ValidString(in.Name) {
			f["name"] = "请填写2至100个字的单位名称"
		}
		if err := idcode.ValidateUSCC(in.USCC); err != nil {
			f["uscc"] = errs.Message(err)
		}
		if n := utf8.RuneCountInString(in.LegalRep); n < 2 || n > 30 {
			f["legal_rep"] = "请填写法定代表人姓名"
		}
		if in.Phone != "" && !ValidPhone(in.Phone) {
			f["phone"] = "请填写11位手机号码"
		}
		in.IDNumber = ""
	default:
		f["kind"] = "请选择个人或法人"
	}
	if err := checkPassword(in.Password, in.IDNumber, in.USCC, in.Phone); err != nil {
		f["password"] = errs.Message(err)
	}
	if len(f) > 0 {
		return &errs.Error{Kind: errs.Invalid, Op: "identity.NewAccount.Check", Msg: "请按提示修改注册信息", Fields: f}
	}
	return nil
}

// Session is a signed-in browser.
type Session struct {
	ID         string // digest of the cookie token
	AccountID  string
	ActingFor  string // enterprise account acted for, "" for oneself
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

// Login is one entry of the sign-in history.
type Login struct {
	At        time.Time
	Outcome   string // "ok", "bad_password", "locked"
	Via       string // "password", "sso:CLIENT"
	IP        string
	UserAgent string
}

// OutcomeLabels names sign-in outcomes in zh-CN.
var OutcomeLabels = map[string]string{"ok": "登录成功", "bad_password": "密码错误", "locked": "账号锁定期间尝试登录", "bad_code": "验证码错误"}

// Agent is a person authorised to act for an enterprise (经办人).
type Agent struct {
	ID        string
	LegalID   string
	LegalName string
	LegalUSCC string
	PersonID  string
	Name      string
	IDNumber  string
	GrantedAt time.Time
}

// Settings are the sign-in policy.
type Settings struct {
	SessionTTL       time.Duration // idle time before a session ends
	SessionMaxAge    time.Duration // a session's whole life
	LockoutThreshold int           // failed sign-ins before a lock
	LockoutDuration  time.Duration
	CodeTTL          time.Duration // how long a verification code works
	CodeAttempts     int           // wrong entries before a code is spent
	CodeInterval     time.Duration // minimum time between two codes to one phone
	CodesPerDay      int           // codes to one phone per day
	EmailCodeTTL     time.Duration // how long a code sent by e-mail works (mail is slower than SMS)
}

// DefaultSettings are used where a setting is zero.
var DefaultSettings = Settings{SessionTTL: 30 * time.Minute, SessionMaxAge: 12 * time.Hour, LockoutThreshold: 5, LockoutDuration: 15 * time.Minute,
	CodeTTL: 5 * time.Minute, CodeAttempts: 5, CodeInterval: time.Minute, CodesPerDay: 10, EmailCodeTTL: 30 * time.Minute}

func (s Settings) withDefaults() Settings {
	d := DefaultSettings
	return Settings{SessionTTL: or(s.SessionTTL, d.SessionTTL), SessionMaxAge: or(s.SessionMaxAge, d.SessionMaxAge),
		LockoutThreshold: or(s.LockoutThreshold, d.LockoutThreshold), LockoutDuration: or(s.LockoutDuration, d.LockoutDuration),
		CodeTTL: or(s.CodeTTL, d.CodeTTL), CodeAttempts: or(s.CodeAttempts, d.CodeAttempts), CodeInterval: or(s.CodeInterval, d.CodeInterval),
		CodesPerDay: or(s.CodesPerDay, d.CodesPerDay), EmailCodeTTL: or(s.EmailCodeTTL, d.EmailCodeTTL)}
}

// or returns v when it is positive, else def.
func or[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func lockedMsg(until time.Time) string {
	return fmt.Sprintf("登录失败次数过多，账号已临时锁定，请于 %s 后再试，或通过“忘记密码”重置", until.In(shanghai).Format("15:04"))
}

var shanghai = time.FixedZone("CST", 8*3600)

// Citizen is the signed-in account holder of a request.
type Citizen struct {
	Session Session
	Account Account
	Acting  *Account // the enterprise acted for as its 经办人, nil for oneself
}

type citizenKey struct{}

// WithCitizen returns ctx carrying c.
func WithCitizen(ctx context.Context, c *Citizen) context.Context {
	return context.WithValue(ctx, citizenKey{}, c)
}

// CitizenFrom returns the signed-in account holder of ctx, if any.
func CitizenFrom(ctx context.Context) (*Citizen, bool) {
	c, ok := ctx.Value(citizenKey{}).(*Citizen)
	return c, ok && c != nil
}

// SystemGrant is what one system that signs in through our SSO has
// received about an account (已授权的系统).
type SystemGrant struct {
	ClientID   string
	ClientName string
	Claims     []string // zh-CN names of what it receives, e.g. 姓名, 手机号码
	FirstAt    time.Time
	LastAt     time.Time
}

// SystemLister lists and revokes the systems an account has let in; the
// OIDC provider implements it.
type SystemLister interface {
	Systems(ctx context.Context, accountID string) ([]SystemGrant, error)
	RevokeSystem(ctx context.Context, accountID, clientID string) error
}

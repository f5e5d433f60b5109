package staff

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"yiwang/internal/org"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
)

// User is a staff account (工作人员账号).
type User struct {
	ID           string
	Username     string
	DisplayName  string
	Phone        string
	Region       string
	RegionName   string
	DeptID       string
	DeptName     string
	DeptPath     string
	PasswordHash string
	TOTPSecret   string
	TOTPEnabled  bool
	TOTPCounter  int64
	FailedLogins int
	LockedUntil  time.Time
	Disabled     bool
	LastLoginAt  time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Version      int
	Grants       []authz.Grant
}

// Target is where the account lives, for permission checks.
func (u User) Target() authz.Target { return authz.Target{Region: u.Region, DeptPath: u.DeptPath} }

// ManageableBy reports whether p may change u's account: p must manage
// staff where u belongs, and be allowed to grant every role u holds — so a
// region admin can never reset, disable or edit a platform admin (which
// would hand them the platform admin's powers).
func (u User) ManageableBy(p *authz.Principal) bool {
	if !p.Can(authz.ManageStaff, u.Target()) {
		return false
	}
	for _, g := range u.Grants {
		if !p.MayGrant(g) {
			return false
		}
	}
	return true
}

// Locked reports whether the account is locked at now.
func (u User) Locked(now time.Time) bool { return u.LockedUntil.After(now) }

// NeedsTOTP reports whether signing in needs a second factor: when the user
// enabled it, and always for platform admins.
func (u User) NeedsTOTP() bool {
	return u.TOTPEnabled || u.Principal().HasRole(authz.PlatformAdmin)
}

// Principal returns the authorization view of u.
func (u User) Principal() *authz.Principal {
	return &authz.Principal{UserID: u.ID, Name: u.DisplayName, Grants: u.Grants}
}

// UserInput is what an administrator submits for an account.
type UserInput struct {
	Username    string
	DisplayName string
	Phone       string
	Region      string
	DeptID      string
	Password    string `json:"-"` // initial password, on create only; never audited
	Version     int
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,31}$`)

// Check normalises the input and reports every invalid field at once.
func (in *UserInput) Check(creating bool) error {
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	in.Phone = strings.TrimSpace(in.Phone)
	in.Region = strings.TrimSpace(in.Region)
	in.DeptID = strings.TrimSpace(in.DeptID)
	f := map[string]string{}
	if creating && !usernameRE.MatchString(in.Username) {
		f["username"] = "用户名为3至32位小写字母、数字或 . _ -，以字母或数字开头"
	}
	if n := utf8.RuneCountInString(in.DisplayName); n < 2 || n > 40 || !utf8.ValidString(in.DisplayName) {
		f["display_name"] = "姓名应为2至40个字"
	}
	if in.Phone != "" && !regexp.MustCompile(`^[0-9+\- ]{5,20}$`).MatchString(in.Phone) {
		f["phone"] = "请填写有效的电话号码"
	}
	if norm, _, _, err := org.ParseRegionCode(in.Region); err != nil {
		f["region"] = "请填写所属行政区划代码"
	} else {
		in.Region = norm
	}
	if len(f) > 0 {
		return &errs.Error{Kind: errs.Invalid, Op: "staff.UserInput.Check", Msg: "请检查填写的内容", Fields: f}
	}
	return nil
}

// Session is a signed-in browser.
type Session struct {
	ID         string // SHA-256 of the cookie token
	UserID     string
	MFAOK      bool
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

// Settings tune sign-in.
type Settings struct {
	SessionTTL       time.Duration // idle timeout
	SessionMaxAge    time.Duration // absolute lifetime
	LockoutThreshold int
	LockoutDuration  time.Duration
	Issuer           string // shown in authenticator apps
}

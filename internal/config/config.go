// Package config holds Yiwang's settings: one declarative table of options,
// each with a default, a parser that checks it, and whether it is secret.
// Values come from the defaults, then a config file, then YIWANG_* environment
// variables, then command-line flags; later sources win.
package config

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is the effective configuration of one process.
type Config struct {
	Addr             string        // listen address, host:port
	DB               string        // "sqlite:PATH" or a postgres:// URL
	DataDir          string        // where blobs, the search index and demo logins live
	LogLevel         string        // debug, info, warn, error
	LogFormat        string        // json or text
	Demo             bool          // seed the demo province into an empty SQLite database
	BaseURL          string        // public URL, used in links and QR codes; empty: derived from requests
	CookieSecure     string        // auto, true or false: whether cookies get the Secure attribute (see SecureCookies)
	SessionTTL       time.Duration // staff session lifetime without activity
	SessionMaxAge    time.Duration // absolute staff session lifetime
	LockoutThreshold int           // failed logins before an account locks
	LockoutDuration  time.Duration // how long a locked account stays locked
	LoginRate        int           // sign-in attempts allowed per client address per minute
	HashSlots        int           // password hashes allowed to run at once
	OutboxWorkers    int           // concurrent outbox deliveries
	OutboxPoll       time.Duration // how often the outbox worker looks for work
	ShutdownTimeout  time.Duration // grace period for in-flight requests on stop
	MetricsToken     string        // bearer token required for /metrics; empty: no token
	OIDCSecret       string        // encrypts the OIDC signing keys at rest; empty: stored in the clear
	OIDCKeyRotation  time.Duration // how long an OIDC signing key signs before the next takes over
	CaseWarnDays     int           // working days before a case's promised due date that it shows yellow
	PDFFont          string        // TrueType font (.ttf or .ttc) with CJK glyphs for PDF notices; "": none
	TrustProxy       bool          // take the client address from X-Forwarded-For
	Province         string        // GB/T 2260 code of the province this platform serves
	SiteName         string        // the portal's name, shown in every page header
	Operator         string        // the body that runs the platform (主办单位), in the footer
	SMTPAddr         string        // SMTP server host:port for e-mail; "": e-mail is written to the log
	SMTPUser         string        // SMTP user name; "": no authentication
	SMTPPassword     string        // SMTP password
	MailFrom         string        // sender of e-mail: "addr" or "Name <addr>"; required with SMTPAddr
}

// Option describes one setting: its key (as in the config file), its
// environment variable, its default, and how it is parsed into a Config.
type Option struct {
	Key     string
	Default string
	Secret  bool
	Help    string
	set     func(c *Config, v string) error
	get     func(c *Config) string
}

// Env returns the environment variable that sets o.
func (o Option) Env() string { return "YIWANG_" + strings.ToUpper(o.Key) }

// Options is the table of every setting, in the order they are documented.
var Options = []Option{
	{Key: "addr", Default: "127.0.0.1:8080", Help: "HTTP 监听地址 (host:port)",
		set: func(c *Config, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("want host:port: %v", err)
			}
			c.Addr = v
			return nil
		}, get: func(c *Config) string { return c.Addr }},
	{Key: "db", Default: "sqlite:./data/yiwang.db", Secret: true, Help: "数据库: sqlite:PATH 或 postgres://… URL",
		set: func(c *Config, v string) error {
			if err := CheckDB(v); err != nil {
				return err
			}
			c.DB = v
			return nil
		}, get: func(c *Config) string { return c.DB }},
	{Key: "data_dir", Default: "./data", Help: "数据目录 (附件、检索索引、演示账号)",
		set: func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" {
				return fmt.Errorf("must not be empty")
			}
			c.DataDir = v
			return nil
		}, get: func(c *Config) string { return c.DataDir }},
	{Key: "log_level", Default: "info", Help: "日志级别: debug, info, warn, error",
		set: func(c *Config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return fmt.Errorf("want one of debug, info, warn, error")
		}, get: func(c *Config) string { return c.LogLevel }},
	{Key: "log_format", Default: "json", Help: "日志格式: json 或 text",
		set: func(c *Config, v string) error {
			if v != "json" && v != "text" {
				return fmt.Errorf("want json or text")
			}
			c.LogFormat = v
			return nil
		}, get: func(c *Config) string { return c.LogFormat }},
	{Key: "demo", Default: "true", Help: "空的 SQLite 数据库首次启动时导入演示数据",
		set: boolSetter(func(c *Config) *bool { return &c.Demo }), get: func(c *Config) string { return strconv.FormatBool(c.Demo) }},
	{Key: "base_url", Default: "", Help: "对外访问地址，例如 https://zwfw.example.gov.cn；留空则按请求推断",
		set: func(c *Config, v string) error {
			if v == "" {
				c.BaseURL = ""
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("want an absolute http(s) URL")
			}
			c.BaseURL = strings.TrimRight(v, "/")
			return nil
		}, get: func(c *Config) string { return c.BaseURL }},
	{Key: "cookie_secure", Default: "auto", Help: "Cookie 是否带 Secure 属性: auto (base_url 为 https 时是)、true 或 false",
		set: func(c *Config, v string) error {
			switch v {
			case "auto", "true", "false":
				c.CookieSecure = v
				return nil
			}
			return fmt.Errorf("want auto, true or false")
		}, get: func(c *Config) string { return c.CookieSecure }},
	{Key: "session_ttl", Default: "30m", Help: "工作人员会话空闲超时",
		set: durationSetter(func(c *Config) *time.Duration { return &c.SessionTTL }, time.Minute, 24*time.Hour),
		get: func(c *Config) string { return c.SessionTTL.String() }},
	{Key: "session_max_age", Default: "12h", Help: "工作人员会话最长有效期",
		set: durationSetter(func(c *Config) *time.Duration { return &c.SessionMaxAge }, time.Minute, 7*24*time.Hour),
		get: func(c *Config) string { return c.SessionMaxAge.String() }},
	{Key: "lockout_threshold", Default: "5", Help: "连续登录失败多少次后锁定账号",
		set: intSetter(func(c *Config) *int { return &c.LockoutThreshold }, 1, 100),
		get: func(c *Config) string { return strconv.Itoa(c.LockoutThreshold) }},
	{Key: "lockout_duration", Default: "15m", Help: "账号锁定时长",
		set: durationSetter(func(c *Config) *time.Duration { return &c.LockoutDuration }, time.Second, 24*time.Hour),
		get: func(c *Config) string { return c.LockoutDuration.String() }},
	{Key: "login_rate", Default: "10", Help: "每个客户端地址每分钟允许的登录尝试次数",
		set: intSetter(func(c *Config) *int { return &c.LoginRate }, 1, 100000),
		get: func(c *Config) string { return strconv.Itoa(c.LoginRate) }},
	{Key: "hash_slots", Default: "2", Help: "同时进行的密码哈希数 (每个占用 64 MiB)",
		set: intSetter(func(c *Config) *int { return &c.HashSlots }, 1, 64),
		get: func(c *Config) string { return strconv.Itoa(c.HashSlots) }},
	{Key: "outbox_workers", Default: "2", Help: "发件箱并发投递数",
		set: intSetter(func(c *Config) *int { return &c.OutboxWorkers }, 1, 64),
		get: func(c *Config) string { return strconv.Itoa(c.OutboxWorkers) }},
	{Key: "outbox_poll", Default: "1s", Help: "发件箱轮询间隔",
		set: durationSetter(func(c *Config) *time.Duration { return &c.OutboxPoll }, 10*time.Millisecond, time.Hour),
		get: func(c *Config) string { return c.OutboxPoll.String() }},
	{Key: "shutdown_timeout", Default: "15s", Help: "停止时等待进行中请求的时长",
		set: durationSetter(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, 0, 10*time.Minute),
		get: func(c *Config) string { return c.ShutdownTimeout.String() }},
	{Key: "metrics_token", Default: "", Secret: true, Help: "访问 /metrics 所需的 Bearer 令牌；留空则不校验",
		set: func(c *Config, v string) error { c.MetricsToken = v; return nil },
		get: func(c *Config) string { return c.MetricsToken }},
	{Key: "oidc_secret", Default: "", Secret: true, Help: "加密单点登录签名私钥的密钥（至少16个字符）；留空则私钥以明文存储",
		set: func(c *Config, v string) error {
			if v != "" && len(v) < 16 {
				return fmt.Errorf("want at least 16 characters, or empty")
			}
			c.OIDCSecret = v
			return nil
		}, get: func(c *Config) string { return c.OIDCSecret }},
	{Key: "oidc_key_rotation", Default: "720h", Help: "单点登录签名密钥的轮换周期",
		set: durationSetter(func(c *Config) *time.Duration { return &c.OIDCKeyRotation }, time.Hour, 8760*time.Hour),
		get: func(c *Config) string { return c.OIDCKeyRotation.String() }},
	{Key: "case_warn_days", Default: "2", Help: "办件承诺时限前多少个工作日开始黄色预警",
		set: intSetter(func(c *Config) *int { return &c.CaseWarnDays }, 1, 30),
		get: func(c *Config) string { return strconv.Itoa(c.CaseWarnDays) }},
	{Key: "pdf_font", Default: "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", Help: "PDF文书使用的中文字体文件（.ttf 或 .ttc）；找不到时只提供打印页面",
		set: func(c *Config, v string) error { c.PDFFont = strings.TrimSpace(v); return nil },
		get: func(c *Config) string { return c.PDFFont }},
	{Key: "province", Default: "150000", Help: "本平台服务的省级行政区划代码 (GB/T 2260)",
		set: func(c *Config, v string) error {
			if len(v) != 6 || v[2:] != "0000" || strings.Trim(v, "0123456789") != "" || v[:2] == "00" {
				return fmt.Errorf("want a 6-digit province code such as 150000")
			}
			c.Province = v
			return nil
		}, get: func(c *Config) string { return c.Province }},
	{Key: "site_name", Default: "内蒙古政务服务网", Help: "门户网站名称，显示在页头",
		set: func(c *Config, v string) error {
			if n := len([]rune(strings.TrimSpace(v))); n < 2 || n > 40 {
				return fmt.Errorf("want 2 to 40 characters")
			}
			c.SiteName = strings.TrimSpace(v)
			return nil
		}, get: func(c *Config) string { return c.SiteName }},
	{Key: "operator", Default: "内蒙古自治区政务服务与数据管理局", Help: "主办单位，显示在页脚",
		set: func(c *Config, v string) error {
			if n := len([]rune(strings.TrimSpace(v))); n < 2 || n > 60 {
				return fmt.Errorf("want 2 to 60 characters")
			}
			c.Operator = strings.TrimSpace(v)
			return nil
		}, get: func(c *Config) string { return c.Operator }},
	{Key: "trust_proxy", Default: "false", Help: "信任反向代理的 X-Forwarded-For 头",
		set: boolSetter(func(c *Config) *bool { return &c.TrustProxy }), get: func(c *Config) string { return strconv.FormatBool(c.TrustProxy) }},
	{Key: "smtp_addr", Default: "", Help: "发送电子邮件的 SMTP 服务器 (host:port，服务器支持时使用 STARTTLS，465 端口直接 TLS)；留空则邮件写入日志",
		set: func(c *Config, v string) error {
			if v == "" {
				c.SMTPAddr = ""
				return nil
			}
			host, port, err := net.SplitHostPort(v)
			if err != nil || host == "" || port == "" {
				return fmt.Errorf("want host:port, e.g. smtp.example.gov.cn:587")
			}
			c.SMTPAddr = v
			return nil
		}, get: func(c *Config) string { return c.SMTPAddr }},
	{Key: "smtp_user", Default: "", Help: "SMTP 登录用户名；留空则不登录",
		set: func(c *Config, v string) error {
			if strings.ContainsAny(v, "\r\n\x00") {
				return fmt.Errorf("must be one line")
			}
			c.SMTPUser = v
			return nil
		}, get: func(c *Config) string { return c.SMTPUser }},
	{Key: "smtp_password", Default: "", Secret: true, Help: "SMTP 登录密码",
		set: func(c *Config, v string) error {
			if strings.ContainsAny(v, "\r\n\x00") {
				return fmt.Errorf("must be one line")
			}
			c.SMTPPassword = v
			return nil
		}, get: func(c *Config) string { return c.SMTPPassword }},
	{Key: "mail_from", Default: "", Help: "电子邮件发件人，例如 政务服务网 <noreply@example.gov.cn>；使用 SMTP 时必填",
		set: func(c *Config, v string) error {
			if v == "" {
				c.MailFrom = ""
				return nil
			}
			if a, err := mail.ParseAddress(v); err != nil || strings.ContainsAny(v, "\r\n") || !strings.Contains(a.Address, ".") {
				return fmt.Errorf("want an address such as noreply@example.gov.cn or \"Name <noreply@example.gov.cn>\"")
			}
			c.MailFrom = v
			return nil
		}, get: func(c *Config) string { return c.MailFrom }},
}

// HTTPS reports whether the public URL (base_url) is https, as when TLS
// ends at a proxy in front of Yiwang.
func (c Config) HTTPS() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// SecureCookies resolves cookie_secure: "true" and "false" say it outright;
// "auto" means Secure exactly when base_url is https.
func (c Config) SecureCookies() bool {
	switch c.CookieSecure {
	case "true":
		return true
	case "false":
		return false
	}
	return c.HTTPS()
}

// KeyError names the setting that could not be used.
type KeyError struct {
	Key    string // option key, e.g. "db"
	Source string // "default", "file PATH:LINE", "env YIWANG_DB", "flag --db"
	Err    error
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("config: %s (from %s): %v", e.Key, e.Source, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

// Default returns the configuration made of defaults only.
func Default() Config {
	var c Config
	for _, o := range Options {
		if err := o.set(&c, o.Default); err != nil {
			panic("config: bad default for " + o.Key + ": " + err.Error()) // programming error, caught by tests
		}
	}
	return c
}

// Load builds the configuration: defaults, then the file at path (if not
// empty), then environment variables read through getenv, then flags
// (option key → value). The first bad value stops it with a *KeyError.
func Load(path string, getenv func(string) string, flags map[string]string) (Config, error) {
	c := Default()
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return c, &KeyError{Key: "config", Source: "flag --config", Err: err}
		}
		err = c.applyFile(f, path)
		f.Close()
		if err != nil {
			return c, err
		}
	}
	for _, o := range Options {
		if v := getenv(o.Env()); v != "" {
			if err := o.set(&c, v); err != nil {
				return c, &KeyError{Key: o.Key, Source: "env " + o.Env(), Err: err}
			}
		}
	}
	keys := make([]string, 0, len(flags))
	for k := range flags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o, ok := lookup(k)
		if !ok {
			return c, &KeyError{Key: k, Source: "flag --" + k, Err: fmt.Errorf("unknown setting")}
		}
		if err := o.set(&c, flags[k]); err != nil {
			return c, &KeyError{Key: k, Source: "flag --" + strings.ReplaceAll(k, "_", "-"), Err: err}
		}
	}
	return c, nil
}

// applyFile reads "key = value" lines; blank lines and lines starting with #
// are skipped. Keys are option keys ("db") or their variables ("YIWANG_DB").
func (c *Config) applyFile(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		src := fmt.Sprintf("file %s:%d", name, n)
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return &KeyError{Key: line, Source: src, Err: fmt.Errorf("want key = value")}
		}
		k = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(k), "YIWANG_"))
		v = strings.TrimSpace(v)
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		}
		o, ok := lookup(k)
		if !ok {
			return &KeyError{Key: k, Source: src, Err: fmt.Errorf("unknown setting")}
		}
		if err := o.set(c, v); err != nil {
			return &KeyError{Key: k, Source: src, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return &KeyError{Key: "config", Source: "file " + name, Err: err}
	}
	return nil
}

// Redacted returns "key = value" lines of the effective configuration with
// secrets hidden (passwords inside a database URL included).
func (c Config) Redacted() string {
	var b strings.Builder
	for _, o := range Options {
		v := o.get(&c)
		if o.Secret && v != "" {
			v = redact(o.Key, v)
		}
		fmt.Fprintf(&b, "%s = %q\n", o.Key, v)
	}
	return b.String()
}

func redact(key, v string) string {
	if key == "db" {
		if strings.HasPrefix(v, "sqlite:") {
			return v
		}
		if u, err := url.Parse(v); err == nil {
			if u.User != nil {
				if _, has := u.User.Password(); has {
					u.User = url.UserPassword(u.User.Username(), "xxxxx")
				}
			}
			q := u.Query()
			if q.Has("password") {
				q.Set("password", "xxxxx")
				u.RawQuery = q.Encode()
			}
			return u.String()
		}
	}
	return "xxxxx"
}

// CheckDB reports whether v names a database Yiwang can open.
func CheckDB(v string) error {
	switch {
	case strings.HasPrefix(v, "sqlite:"):
		if strings.TrimPrefix(v, "sqlite:") == "" {
			return fmt.Errorf("sqlite: needs a file path, e.g. sqlite:./data/yiwang.db")
		}
		return nil
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
		u, err := url.Parse(v)
		if err != nil {
			return fmt.Errorf("bad PostgreSQL URL: %v", err)
		}
		if u.Host == "" {
			return fmt.Errorf("PostgreSQL URL needs a host")
		}
		return nil
	}
	return fmt.Errorf("want sqlite:PATH or a postgres:// URL")
}

func lookup(key string) (Option, bool) {
	key = strings.ReplaceAll(key, "-", "_")
	for _, o := range Options {
		if o.Key == key {
			return o, true
		}
	}
	return Option{}, false
}

func boolSetter(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		*field(c) = b
		return nil
	}
}

func intSetter(field func(*Config) *int, lo, hi int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want a whole number from %d to %d", lo, hi)
		}
		*field(c) = n
		return nil
	}
}

func durationSetter(field func(*Config) *time.Duration, lo, hi time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < lo || d > hi {
			return fmt.Errorf("want a duration from %s to %s, e.g. 30m", lo, hi)
		}
		*field(c) = d
		return nil
	}
}

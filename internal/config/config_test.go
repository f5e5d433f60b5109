package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// env returns a getenv reading from m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// writeFile writes a config file into t's temporary folder and returns its path.
func writeFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "yiwang.conf")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadDefaults(t *testing.T) {
	got, err := Load("", env(nil), nil)
	if err != nil {
		t.Fatalf("Load with nothing set: %v", err)
	}
	if diff := cmp.Diff(Default(), got); diff != "" {
		t.Errorf("Load with nothing set differs from Default() (-want +got):\n%s", diff)
	}
	// The defaults README.md promises for `go run ./cmd/yiwang`.
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"addr", got.Addr, "127.0.0.1:8080"},
		{"db", got.DB, "sqlite:./data/yiwang.db"},
		{"data_dir", got.DataDir, "./data"},
		{"demo", got.Demo, true},
		{"log_format", got.LogFormat, "json"},
		{"session_ttl", got.SessionTTL, 30 * time.Minute},
		{"session_max_age", got.SessionMaxAge, 12 * time.Hour},
		{"lockout_threshold", got.LockoutThreshold, 5},
		{"hash_slots", got.HashSlots, 2},
		{"province", got.Province, "150000"},
		{"base_url", got.BaseURL, ""},
		{"cookie_secure", got.CookieSecure, "auto"},
		{"trust_proxy", got.TrustProxy, false},
	} {
		if c.got != c.want {
			t.Errorf("default %s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestLoadPrecedence checks defaults < file < environment < flags, one
// layer at a time.
func TestLoadPrecedence(t *testing.T) {
	file := writeFile(t, `# comment lines and blank lines are skipped

addr = 0.0.0.0:9000
log_level = debug
YIWANG_LOCKOUT_THRESHOLD = 7
db = "sqlite:/var/lib/yiwang/file.db"
session_ttl = 45m
`)
	tests := []struct {
		name  string
		file  string
		env   map[string]string
		flags map[string]string
		want  func(c *Config)
	}{
		{
			name: "file overrides default",
			file: file,
			want: func(c *Config) {
				c.Addr = "0.0.0.0:9000"
				c.LogLevel = "debug"
				c.LockoutThreshold = 7
				c.DB = "sqlite:/var/lib/yiwang/file.db" // quotes removed
				c.SessionTTL = 45 * time.Minute
			},
		},
		{
			name: "env overrides file",
			file: file,
			env:  map[string]string{"YIWANG_ADDR": "127.0.0.1:7000", "YIWANG_LOG_LEVEL": "warn", "YIWANG_TRUST_PROXY": "true"},
			want: func(c *Config) {
				c.Addr = "127.0.0.1:7000"
				c.LogLevel = "warn"
				c.TrustProxy = true
				c.LockoutThreshold = 7
				c.DB = "sqlite:/var/lib/yiwang/file.db"
				c.SessionTTL = 45 * time.Minute
			},
		},
		{
			name: "empty env var leaves the file's value",
			file: file,
			env:  map[string]string{"YIWANG_ADDR": ""},
			want: func(c *Config) {
				c.Addr = "0.0.0.0:9000"
				c.LogLevel = "debug"
				c.LockoutThreshold = 7
				c.DB = "sqlite:/var/lib/yiwang/file.db"
				c.SessionTTL = 45 * time.Minute
			},
		},
		{
			name:  "flag overrides env",
			file:  file,
			env:   map[string]string{"YIWANG_ADDR": "127.0.0.1:7000", "YIWANG_DB": "sqlite:env.db"},
			flags: map[string]string{"addr": "127.0.0.1:6000", "db": "postgres://yiwang@db.internal:5432/yiwang"},
			want: func(c *Config) {
				c.Addr = "127.0.0.1:6000"
				c.DB = "postgres://yiwang@db.internal:5432/yiwang"
				c.LogLevel = "debug"
				c.LockoutThreshold = 7
				c.SessionTTL = 45 * time.Minute
			},
		},
		{
			name:  "flag keys may use dashes",
			flags: map[string]string{"session-ttl": "2h"},
			want:  func(c *Config) { c.SessionTTL = 2 * time.Hour },
		},
		{
			name: "env alone, no file",
			env:  map[string]string{"YIWANG_PROVINCE": "330000", "YIWANG_BASE_URL": "https://zwfw.example.gov.cn/"},
			want: func(c *Config) {
				c.Province = "330000"
				c.BaseURL = "https://zwfw.example.gov.cn" // trailing slash trimmed
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := Default()
			tc.want(&want)
			got, err := Load(tc.file, env(tc.env), tc.flags)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Load mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadInvalid gives each bad value through each source and checks the
// *KeyError names the key and where the value came from.
func TestLoadInvalid(t *testing.T) {
	bad := []struct{ key, value string }{
		{"db", "mysql://x"},
		{"addr", "nohost"},
		{"log_level", "loud"},
		{"session_ttl", "5s"}, // below the 1m minimum
		{"lockout_threshold", "0"},
		{"province", "150100"}, // a prefecture, not a province
		{"base_url", "ftp://x"},
		{"cookie_secure", "yes"},
	}
	for _, b := range bad {
		t.Run(b.key+"/file", func(t *testing.T) {
			path := writeFile(t, "# settings\n"+b.key+" = "+b.value+"\n")
			_, err := Load(path, env(nil), nil)
			checkKeyError(t, err, b.key, "file "+path+":2")
		})
		t.Run(b.key+"/env", func(t *testing.T) {
			name := "YIWANG_" + strings.ToUpper(b.key)
			_, err := Load("", env(map[string]string{name: b.value}), nil)
			checkKeyError(t, err, b.key, "env "+name)
		})
		t.Run(b.key+"/flag", func(t *testing.T) {
			_, err := Load("", env(nil), map[string]string{b.key: b.value})
			checkKeyError(t, err, b.key, "flag --"+strings.ReplaceAll(b.key, "_", "-"))
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name, body, key, source string
	}{
		{name: "unknown key", body: "addr = 127.0.0.1:1\ncolour = blue\n", key: "colour", source: ":2"},
		{name: "unknown YIWANG_ key", body: "YIWANG_COLOUR = blue\n", key: "colour", source: ":1"},
		{name: "no equals sign", body: "addr 127.0.0.1:1\n", key: "addr 127.0.0.1:1", source: ":1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.body)
			_, err := Load(path, env(nil), nil)
			checkKeyError(t, err, tc.key, "file "+path+tc.source)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := Load(filepath.Join(t.TempDir(), "absent.conf"), env(nil), nil)
		checkKeyError(t, err, "config", "flag --config")
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Load(absent file) = %v, want it to wrap os.ErrNotExist", err)
		}
	})
	t.Run("unknown flag", func(t *testing.T) {
		_, err := Load("", env(nil), map[string]string{"colour": "blue"})
		checkKeyError(t, err, "colour", "flag --colour")
	})
}

func checkKeyError(t *testing.T, err error, key, source string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Load succeeded, want a *KeyError for %q", key)
	}
	ke, ok := errors.AsType[*KeyError](err)
	if !ok {
		t.Fatalf("Load error = %T %v, want *KeyError", err, err)
	}
	if ke.Key != key || ke.Source != source {
		t.Errorf("KeyError{Key: %q, Source: %q}, want {Key: %q, Source: %q}", ke.Key, ke.Source, key, source)
	}
	if msg := err.Error(); !strings.Contains(msg, key) || !strings.Contains(msg, source) {
		t.Errorf("error %q does not name key %q and source %q", msg, key, source)
	}
}

func TestRedacted(t *testing.T) {
	tests := []struct {
		name   string
		db     string
		token  string
		hidden []string // must not appear
		shown  []string // must appear
	}{
		{
			name:   "postgres password in user info",
			db:     "postgres://yiwang:s3cret-pw@db.internal:5432/yiwang?sslmode=disable",
			hidden: []string{"s3cret-pw"},
			shown:  []string{"yiwang:xxxxx@db.internal:5432/yiwang", "sslmode=disable"},
		},
		{
			name:   "postgres password in query",
			db:     "postgresql://yiwang@db.internal/yiwang?password=s3cret-pw&sslmode=require",
			hidden: []string{"s3cret-pw"},
			shown:  []string{"yiwang@db.internal/yiwang", "password=xxxxx", "sslmode=require"},
		},
		{
			name:  "postgres without password",
			db:    "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
			shown: []string{`db = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"`},
		},
		{
			name:  "sqlite path shown",
			db:    "sqlite:/var/lib/yiwang/yiwang.db",
			shown: []string{`db = "sqlite:/var/lib/yiwang/yiwang.db"`},
		},
		{
			name:   "metrics token hidden",
			db:     "sqlite:./data/yiwang.db",
			token:  "tok-9f8e7d",
			hidden: []string{"tok-9f8e7d"},
			shown:  []string{`metrics_token = "xxxxx"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flags := map[string]string{"db": tc.db}
			if tc.token != "" {
				flags["metrics_token"] = tc.token
			}
			c, err := Load("", env(nil), flags)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			out := c.Redacted()
			for _, s := range tc.hidden {
				if strings.Contains(out, s) {
					t.Errorf("Redacted() shows %q:\n%s", s, out)
				}
			}
			for _, s := range tc.shown {
				if !strings.Contains(out, s) {
					t.Errorf("Redacted() lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

// TestRedactedRoundTrip checks `yiwang config` output is itself a valid
// config file: without secrets set, loading it gives the same Config.
func TestRedactedRoundTrip(t *testing.T) {
	want, err := Load("", env(nil), map[string]string{"addr": "0.0.0.0:9000", "session_ttl": "90m", "demo": "false"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(writeFile(t, want.Redacted()), env(nil), nil)
	if err != nil {
		t.Fatalf("Load(Redacted() output): %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip through Redacted() (-want +got):\n%s", diff)
	}
}

func TestOptionDefaults(t *testing.T) {
	for _, o := range Options {
		t.Run(o.Key, func(t *testing.T) {
			var c Config
			if err := o.set(&c, o.Default); err != nil {
				t.Errorf("default %q of %s does not parse: %v", o.Default, o.Key, err)
			}
			if o.Help == "" {
				t.Errorf("option %s has no Help", o.Key)
			}
			if o.set == nil || o.get == nil {
				t.Errorf("option %s lacks set or get", o.Key)
			}
		})
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("Default() panicked: %v", p)
			}
		}()
		Default()
	}()
}

var keyRE = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

func TestOptionKeysAndEnv(t *testing.T) {
	seen := map[string]bool{}
	for _, o := range Options {
		if !keyRE.MatchString(o.Key) {
			t.Errorf("key %q is not lower_snake_case", o.Key)
		}
		if seen[o.Key] {
			t.Errorf("key %q appears twice in Options", o.Key)
		}
		seen[o.Key] = true
		if got, want := o.Env(), "YIWANG_"+strings.ToUpper(o.Key); got != want {
			t.Errorf("Option{Key: %q}.Env() = %q, want %q", o.Key, got, want)
		}
	}
	if seen["config"] {
		t.Error(`"config" is the --config flag and YIWANG_CONFIG, not an option`)
	}
}

// TestOptionsInREADME keeps README.md's configuration table in step with
// Options: each key must have a row.
func TestOptionsInREADME(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatalf("read README.md: %v", err)
	}
	readme := string(b)
	for _, o := range Options {
		row := "| `" + o.Key + "` | `" + o.Env() + "` |"
		if !strings.Contains(readme, row) {
			t.Errorf("README.md has no configuration row starting %q: document the new option there", row)
		}
	}
}

// TestSecureCookies checks how cookie_secure resolves against base_url.
func TestSecureCookies(t *testing.T) {
	tests := []struct {
		cookieSecure, baseURL string
		wantSecure, wantHTTPS bool
	}{
		{"auto", "", false, false},
		{"auto", "http://zwfw.example.gov.cn", false, false},
		{"auto", "https://zwfw.example.gov.cn", true, true},
		{"true", "", true, false},
		{"true", "http://zwfw.example.gov.cn", true, false},
		{"false", "https://zwfw.example.gov.cn", false, true},
	}
	for _, tc := range tests {
		c, err := Load("", env(map[string]string{"YIWANG_COOKIE_SECURE": tc.cookieSecure, "YIWANG_BASE_URL": tc.baseURL}), nil)
		if err != nil {
			t.Fatalf("Load(cookie_secure=%s, base_url=%s): %v", tc.cookieSecure, tc.baseURL, err)
		}
		if got := c.SecureCookies(); got != tc.wantSecure {
			t.Errorf("SecureCookies() with cookie_secure=%s, base_url=%q = %v, want %v", tc.cookieSecure, tc.baseURL, got, tc.wantSecure)
		}
		if got := c.HTTPS(); got != tc.wantHTTPS {
			t.Errorf("HTTPS() with base_url=%q = %v, want %v", tc.baseURL, got, tc.wantHTTPS)
		}
	}
}

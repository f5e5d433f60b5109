package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"yiwang/internal/config"
	"yiwang/internal/identity"
	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
	"yiwang/internal/staff"
)

const usage = `yiwang — 一网通办 integrated government service platform

Usage:
  yiwang [serve] [--addr HOST:PORT] [--db DSN] [--config FILE]   start the server (default)
  yiwang migrate [--db DSN]             apply database migrations (required on PostgreSQL)
  yiwang seed --demo [--db DSN]         load the demo province into an empty database
  yiwang seed --items N [--seed S]      generate N published service items (benchmarks)
  yiwang config [--config FILE]         print the effective configuration, secrets redacted
  yiwang audit verify [--db DSN]        check the audit log's hash chain
  yiwang staff add --username U --name N --region CODE --role ROLE [--dept ID] --password P
                                        create a staff account (e.g. the first platform admin)
  yiwang account add --kind person --id-number N --name NAME --phone P --password PW
                                        create a citizen account (verified as entered by an operator)
  yiwang oidc client add --id ID --secret SECRET --redirect URI [--scopes openid,profile,phone,id_number,enterprise] [--name NAME]
                                        register a confidential system for single sign-on; prints its client id
  yiwang oidc key rotate                make a new ID token signing key (the old one stays published)
  yiwang version                        print the version

DSN: sqlite:PATH or postgres://user@host:5432/db?sslmode=disable
Every setting can also come from a config file (key = value) or a YIWANG_* variable.
`

// Main runs one command and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, args, stdout, stderr, getenv)
	case "migrate":
		err = cmdMigrate(ctx, args, stdout, stderr, getenv)
	case "seed":
		err = cmdSeed(ctx, args, stdout, stderr, getenv)
	case "config":
		var cfg config.Config
		if cfg, _, err = loadConfig("config", args, stderr, getenv, nil); err == nil {
			fmt.Fprint(stdout, cfg.Redacted())
		}
	case "audit":
		err = cmdAudit(ctx, args, stdout, stderr, getenv)
	case "staff":
		err = cmdStaff(ctx, args, stdout, stderr, getenv)
	case "account":
		err = cmdAccount(ctx, args, stdout, stderr, getenv)
	case "oidc":
		err = cmdOIDC(ctx, args, stdout, stderr, getenv)
	case "version":
		fmt.Fprintln(stdout, "yiwang", Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "yiwang: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "yiwang:", err)
		return 1
	}
	return 0
}

// loadConfig parses the common flags (--config, --db, --addr and any extra
// the command registers) and builds the configuration.
func loadConfig(name string, args []string, stderr io.Writer, getenv func(string) string, extra func(*flag.FlagSet)) (config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("yiwang "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", getenv("YIWANG_CONFIG"), "config file of key = value lines")
	db := fs.String("db", "", "database: sqlite:PATH or postgres:// URL")
	addr := fs.String("addr", "", "listen address host:port")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, fs, err
	}
	if fs.NArg() > 0 {
		return config.Config{}, fs, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	flags := map[string]string{}
	if *db != "" {
		flags["db"] = *db
	}
	if *addr != "" {
		flags["addr"] = *addr
	}
	cfg, err := config.Load(*file, getenv, flags)
	return cfg, fs, err
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	start := time.Now()
	cfg, _, err := loadConfig("serve", args, stderr, getenv, nil)
	if err != nil {
		return err
	}
	a, closeApp, err := openApp(ctx, cfg, stderr, false)
	if err != nil {
		return err
	}
	defer closeApp()
	log := a.Log
	if cfg.Demo && a.DB.Dialect == "sqlite" {
		empty, err := a.Empty(ctx)
		if err != nil {
			return err
		}
		if empty {
			if err := seedDemo(ctx, a, stdout); err != nil {
				return fmt.Errorf("demo seed: %w", err)
			}
		}
	}
	return a.Serve(ctx, func(addr string) {
		log.Info("ready", "url", "http://"+addr+"/", "startup_ms", time.Since(start).Milliseconds())
		fmt.Fprintf(stdout, "一网 Yiwang %s 已启动: http://%s/  工作台: http://%s/console  (启动耗时 %s)\n", Version, addr, addr, time.Since(start).Round(time.Millisecond))
	})
}

// openApp opens the configured database (migrating it when asked, or
// always on SQLite) and wires the app; close releases both.
func openApp(ctx context.Context, cfg config.Config, stderr io.Writer, migrate bool) (*App, func(), error) {
	log := NewLogger(cfg, stderr)
	db, err := Open(ctx, cfg, log, migrate)
	if err != nil {
		return nil, nil, err
	}
	a, err := New(ctx, cfg, db, Options{Log: log})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return a, func() { a.Close(); db.Close() }, nil
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, _, err := loadConfig("migrate", args, stderr, getenv, nil)
	if err != nil {
		return err
	}
	log := NewLogger(cfg, stderr)
	db, err := Open(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer db.Close()
	cur, _, err := db.Versions(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database at migration version %d\n", cur)
	return nil
}

func cmdSeed(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var demo bool
	var items int
	var seed int64
	cfg, _, err := loadConfig("seed", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.BoolVar(&demo, "demo", false, "load the demo province")
		fs.IntVar(&items, "items", 0, "also generate this many published service items (for benchmarks)")
		fs.Int64Var(&seed, "seed", 1, "random seed for --items")
	})
	if err != nil {
		return err
	}
	if !demo && items <= 0 {
		return fmt.Errorf("seed: say what to load: --demo and/or --items N")
	}
	if items > 2_000_000 {
		return fmt.Errorf("seed: --items must be at most 2000000")
	}
	a, closeApp, err := openApp(ctx, cfg, stderr, true)
	if err != nil {
		return err
	}
	defer closeApp()
	if demo {
		if err := seedDemo(ctx, a, stdout); err != nil {
			return err
		}
	}
	if items > 0 {
		start := time.Now()
		n, err := a.SeedItems(ctx, items, seed)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "generated %d published items in %s\n", n, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// seedDemo loads the demo province and prints (and saves) its logins.
func seedDemo(ctx context.Context, a *App, stdout io.Writer) error {
	logins, err := a.SeedDemo(ctx)
	if err != nil {
		return err
	}
	path, err := a.WriteDemoLogins(stdout, logins)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "（以上账号已保存到 %s）\n", path)
	return nil
}

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("audit: want `yiwang audit verify`")
	}
	cfg, _, err := loadConfig("audit verify", args[1:], stderr, getenv, nil)
	if err != nil {
		return err
	}
	db, err := Open(ctx, cfg, NewLogger(cfg, stderr), false)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := audit.Verify(ctx, db)
	if err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("audit chain BROKEN at entry %d: %s (%d entries read)", rep.BrokenAt, rep.Problem, rep.Entries)
	}
	fmt.Fprintf(stdout, "audit chain intact: %d entries in %d chains\n", rep.Entries, rep.Chains)
	return nil
}

func cmdStaff(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("staff: want `yiwang staff add …`")
	}
	var in staff.UserInput
	var role string
	cfg, _, err := loadConfig("staff add", args[1:], stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&in.Username, "username", "", "login name")
		fs.StringVar(&in.DisplayName, "name", "", "display name")
		fs.StringVar(&in.Region, "region", "", "region code the account belongs to and the role applies at")
		fs.StringVar(&in.DeptID, "dept", "", "department id (optional)")
		fs.StringVar(&in.Password, "password", "", "initial password")
		fs.StringVar(&role, "role", "", "role: "+strings.Join(roleNames(), ", "))
	})
	if err != nil {
		return err
	}
	r := authz.Role(role)
	if !r.Valid() {
		return fmt.Errorf("staff add: --role must be one of %s", strings.Join(roleNames(), ", "))
	}
	a, closeApp, err := openApp(ctx, cfg, stderr, false)
	if err != nil {
		return err
	}
	defer closeApp()
	u, err := a.Staff.Bootstrap(ctx, in, []authz.Grant{{Role: r, Region: in.Region, DeptID: in.DeptID}})
	if err != nil {
		return fmt.Errorf("staff add: %w", describe(err))
	}
	fmt.Fprintf(stdout, "created staff account %s (%s) as %s at %s\n", u.Username, u.ID, r.Label(), in.Region)
	return nil
}

func roleNames() []string {
	var out []string
	for _, r := range authz.Roles {
		out = append(out, string(r))
	}
	return out
}

// describe spells out field errors for the terminal.
func describe(err error) error {
	if fe, ok := errors.AsType[*errs.Error](err); ok && len(fe.Fields) > 0 {
		var parts []string
		for k, v := range fe.Fields {
			parts = append(parts, k+": "+v)
		}
		return fmt.Errorf("%s (%s)", fe.Msg, strings.Join(parts, "; "))
	}
	return err
}

func cmdAccount(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("account: want `yiwang account add …`")
	}
	var in identity.NewAccount
	var kind string
	cfg, _, err := loadConfig("account add", args[1:], stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&kind, "kind", "person", "account kind: person or legal")
		fs.StringVar(&in.Name, "name", "", "name (person) or organisation name (legal)")
		fs.StringVar(&in.IDNumber, "id-number", "", "公民身份号码 (person)")
		fs.StringVar(&in.USCC, "uscc", "", "统一社会信用代码 (legal)")
		fs.StringVar(&in.LegalRep, "legal-rep", "", "法定代表人 (legal)")
		fs.StringVar(&in.Phone, "phone", "", "mobile phone")
		fs.StringVar(&in.Password, "password", "", "initial password")
	})
	if err != nil {
		return err
	}
	in.Kind = identity.Kind(kind)
	a, closeApp, err := openApp(ctx, cfg, stderr, false)
	if err != nil {
		return err
	}
	defer closeApp()
	acc, err := a.Identity.CreateAccount(ctx, in)
	if err != nil {
		return fmt.Errorf("account add: %w", describe(err))
	}
	fmt.Fprintf(stdout, "created %s account %s (%s)\n", acc.Kind, acc.Username(), acc.ID)
	return nil
}

func cmdOIDC(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	switch {
	case len(args) >= 2 && args[0] == "client" && args[1] == "add":
		var in identity.ClientInput
		var scopes string
		cfg, _, err := loadConfig("oidc client add", args[2:], stderr, getenv, func(fs *flag.FlagSet) {
			fs.StringVar(&in.ID, "id", "", "client id")
			fs.StringVar(&in.Name, "name", "", "system name shown to people [the id]")
			fs.StringVar(&in.Secret, "secret", "", fmt.Sprintf("client secret, at least %d characters", identity.MinSecretLen))
			fs.StringVar(&in.RedirectURIs, "redirect", "", "redirect URI (comma-separated for several), matched exactly")
			fs.StringVar(&in.PostLogoutURIs, "post-logout", "", "post-logout redirect URIs (comma-separated)")
			fs.StringVar(&scopes, "scopes", "openid,profile", "scopes the system is entitled to: "+strings.Join(identity.Scopes, ","))
		})
		if err != nil {
			return err
		}
		if in.Name == "" {
			in.Name = in.ID
		}
		list, err := identity.ParseScopes(scopes)
		if err != nil {
			return fmt.Errorf("oidc client add: --scopes: %w", describe(err))
		}
		in.Scopes, in.AuthMethod = list, identity.AuthBasic
		a, closeApp, err := openApp(ctx, cfg, stderr, false)
		if err != nil {
			return err
		}
		defer closeApp()
		c, err := a.OIDC.AddClient(ctx, nil, in)
		if err != nil {
			return fmt.Errorf("oidc client add: %w", describe(err))
		}
		fmt.Fprintln(stdout, c.ID)
		return nil
	case len(args) >= 2 && args[0] == "key" && args[1] == "rotate":
		cfg, _, err := loadConfig("oidc key rotate", args[2:], stderr, getenv, nil)
		if err != nil {
			return err
		}
		a, closeApp, err := openApp(ctx, cfg, stderr, false)
		if err != nil {
			return err
		}
		defer closeApp()
		id, err := a.OIDC.RotateKey(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new signing key %s: published now, signs in a few minutes; the previous key stays published\n", id)
		return nil
	}
	return fmt.Errorf("oidc: want `yiwang oidc client add …` or `yiwang oidc key rotate`")
}

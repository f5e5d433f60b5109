package app_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yiwang/internal/app"
)

// env returns a getenv that sees only vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func run(t *testing.T, ctx context.Context, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := app.Main(ctx, args, &out, &errb, env(vars))
	return code, out.String(), errb.String()
}

func TestCLICommands(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "y.db")
	vars := map[string]string{"YIWANG_DATA_DIR": dir, "YIWANG_LOG_LEVEL": "error"}
	tests := []struct {
		name     string
		args     []string
		vars     map[string]string
		code     int
		out, err string
	}{
		{name: "version", args: []string{"version"}, out: "yiwang " + app.Version},
		{name: "help", args: []string{"help"}, out: "yiwang migrate"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, err: "unknown command"},
		{name: "config redacts", args: []string{"config", "--db", "postgres://u:secret@db:5432/x"}, out: `db = "postgres://u:xxxxx@db:5432/x"`},
		{name: "bad db names key", args: []string{"serve", "--db", "mysql://x"}, code: 1, err: "config: db (from flag --db)"},
		{name: "bad env names key", args: []string{"config"}, vars: map[string]string{"YIWANG_SESSION_TTL": "forever"}, code: 1, err: "session_ttl (from env YIWANG_SESSION_TTL)"},
		{name: "bad addr", args: []string{"serve", "--addr", "nohost", "--db", db}, code: 1, err: "config: addr"},
		{name: "migrate sqlite", args: []string{"migrate", "--db", db}, out: "database at migration version "},
		{name: "seed needs what", args: []string{"seed", "--db", db}, code: 1, err: "--demo"},
		{name: "staff add bad role", args: []string{"staff", "add", "--db", db, "--username", "root1", "--name", "管理员", "--region", "150000", "--role", "king", "--password", "Xy-12345678"}, code: 1, err: "--role must be one of"},
		{name: "staff add weak password", args: []string{"staff", "add", "--db", db, "--username", "root1", "--name", "管理员", "--region", "150000", "--role", "platform_admin", "--password", "short"}, code: 1, err: "password"},
		{name: "staff add", args: []string{"staff", "add", "--db", db, "--username", "root1", "--name", "管理员", "--region", "150000", "--role", "platform_admin", "--password", "Xy-12345678"}, out: "created staff account root1"},
		{name: "audit verify", args: []string{"audit", "verify", "--db", db}, out: "audit chain intact"},
		{name: "seed demo refuses non-empty", args: []string{"seed", "--demo", "--db", db}, code: 1, err: "empty database"},
		{name: "seed items needs departments", args: []string{"seed", "--items", "10", "--db", db}, code: 1, err: "no departments with a credit code"},
		{name: "seed items bounded", args: []string{"seed", "--items", "3000000", "--db", db}, code: 1, err: "at most"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := map[string]string{}
			for k, x := range vars {
				v[k] = x
			}
			for k, x := range tc.vars {
				v[k] = x
			}
			code, out, errs := run(t, t.Context(), v, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) {
				t.Errorf("yiwang %v = %d\nstdout: %s\nstderr: %s\nwant code %d, stdout ∋ %q, stderr ∋ %q", tc.args, code, out, errs, tc.code, tc.out, tc.err)
			}
		})
	}
}

// TestServeDemoAndGracefulShutdown starts `yiwang serve` on a fresh SQLite
// file as a user would, checks the contract endpoints, then stops it.
func TestServeDemoAndGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- app.Main(ctx, []string{"serve", "--addr", addr, "--db", "sqlite:" + filepath.Join(dir, "y.db")}, &out, &errb,
			env(map[string]string{"YIWANG_DATA_DIR": dir, "YIWANG_LOG_LEVEL": "warn"}))
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited early with %d: %s %s", code, out.String(), errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("server did not become healthy")
		}
		time.Sleep(50 * time.Millisecond)
	}
	res, err := http.Get("http://" + addr + "/api/v1/regions/150000/children")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("children: %v %v", res, err)
	}
	res.Body.Close()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit code %d after shutdown: %s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	for _, want := range []string{"演示账号", "admin", "region", "已启动"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestCLIAccountAndOIDC covers `yiwang account add`, `yiwang oidc client
// add` and `yiwang oidc key rotate`.
func TestCLIAccountAndOIDC(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "y.db")
	vars := map[string]string{"YIWANG_DATA_DIR": dir, "YIWANG_LOG_LEVEL": "error"}
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{name: "account add", args: []string{"account", "add", "--db", db, "--kind", "person", "--id-number", "11010519491231002X", "--name", "张三",
			"--phone", "13800138000", "--password", "Zx-98765432a"}, out: "created person account 11010519491231002X"},
		{name: "account add duplicate", args: []string{"account", "add", "--db", db, "--kind", "person", "--id-number", "11010519491231002X", "--name", "张三",
			"--phone", "13800138001", "--password", "Zx-98765432a"}, code: 1, err: "已注册"},
		{name: "account add bad id number", args: []string{"account", "add", "--db", db, "--id-number", "110105194912310021", "--name", "张三",
			"--phone", "13800138002", "--password", "Zx-98765432a"}, code: 1, err: "id_number"},
		{name: "oidc client add", args: []string{"oidc", "client", "add", "--db", db, "--id", "bdc", "--secret", "a-long-random-secret-0123456789",
			"--redirect", "https://bdc.example.gov.cn/cb", "--scopes", "openid,profile,phone,id_number,enterprise", "--name", "不动产登记"}, out: "bdc\n"},
		{name: "oidc client add duplicate", args: []string{"oidc", "client", "add", "--db", db, "--id", "bdc", "--secret", "a-long-random-secret-0123456789",
			"--redirect", "https://bdc.example.gov.cn/cb"}, code: 1, err: "已被使用"},
		{name: "oidc client add short secret", args: []string{"oidc", "client", "add", "--db", db, "--id", "gjj", "--secret", "short",
			"--redirect", "https://gjj.example.gov.cn/cb"}, code: 1, err: "secret"},
		{name: "oidc client add unknown scope", args: []string{"oidc", "client", "add", "--db", db, "--id", "gjj", "--secret", "a-long-random-secret-0123456789",
			"--redirect", "https://gjj.example.gov.cn/cb", "--scopes", "openid,email"}, code: 1, err: "email"},
		{name: "oidc client add bad redirect", args: []string{"oidc", "client", "add", "--db", db, "--id", "gjj", "--secret", "a-long-random-secret-0123456789",
			"--redirect", "https://gjj.example.gov.cn/*"}, code: 1, err: "redirect_uris"},
		{name: "oidc key rotate", args: []string{"oidc", "key", "rotate", "--db", db}, out: "new signing key"},
		{name: "oidc unknown", args: []string{"oidc", "frob", "--db", db}, code: 1, err: "oidc client add"},
		{name: "audit still intact", args: []string{"audit", "verify", "--db", db}, out: "audit chain intact"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(t, t.Context(), vars, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) {
				t.Errorf("yiwang %v = %d\nstdout: %s\nstderr: %s\nwant code %d, stdout ∋ %q, stderr ∋ %q", tc.args, code, out, errs, tc.code, tc.out, tc.err)
			}
		})
	}
}

package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestCrashDuringSubmissions is the durability test of issue 5: the real
// binary on SQLite takes online submissions from several clients and is
// killed with SIGKILL in the middle; after a restart every submission that
// got a 2xx answer is there, and no case is there twice.
func TestCrashDuringSubmissions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "yiwang")
	build := exec.Command("go", "build", "-o", bin, "yiwang/cmd/yiwang")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	data := filepath.Join(dir, "data")
	dbPath := filepath.Join(data, "yiwang.db")
	env := append(os.Environ(), "YIWANG_DB=sqlite:"+dbPath, "YIWANG_DATA_DIR="+data, "YIWANG_LOG_LEVEL=warn", "YIWANG_LOGIN_RATE=100000")
	run := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("yiwang %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("seed", "--demo")
	run("account", "add", "--kind", "person", "--id-number", "11010519491231002X", "--name", "张三", "--phone", "13900001111", "--password", "Crash-Test-2026")

	start := func() (*exec.Cmd, string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.Command(bin, "serve", "--addr", addr)
		cmd.Env = env
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			res, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					return cmd, "http://" + addr
				}
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("server at %s not ready", addr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	srv, base := start()

	var code string
	func() {
		db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRow(`SELECT code FROM catalog_items WHERE name = '出生医学证明首次签发' AND region_code = '150100'`).Scan(&code); err != nil {
			t.Fatal(err)
		}
	}()

	// Clients: each signs in and submits until the server dies.
	const clients = 4
	var mu sync.Mutex
	got := map[string]int{} // number → 2xx answers naming it
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range clients {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := hc.PostForm(base+"/login", url.Values{"username": {"11010519491231002X"}, "password": {"Crash-Test-2026"}})
		if err != nil || res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in: %v %v", err, res)
		}
		res.Body.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				body, _ := json.Marshal(map[string]any{"item_code": code, "submit": true, "form": map[string]string{
					"child_name": "张小宝", "birth_date": "2026-11-20", "gender": "男", "mother_id_number": "150102199003071237",
					"father_id_number": "11010519491231002X", "hukou_region": "150102", "address": "呼和浩特市新城区某街道1号"}})
				req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/cases", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Origin", base)
				res, err := hc.Do(req)
				if err != nil {
					continue // the server is gone, or going
				}
				var out struct {
					Number string `json:"number"`
				}
				json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				if res.StatusCode/100 == 2 && out.Number != "" {
					mu.Lock()
					got[out.Number]++
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(3 * time.Second)
	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.Wait()
	time.Sleep(200 * time.Millisecond) // let in-flight client calls fail
	cancel()
	wg.Wait()
	if len(got) < 10 {
		t.Fatalf("only %d submissions answered before the kill; the test proves nothing", len(got))
	}

	// Restart: the database recovers (WAL) and serves again.
	srv, _ = start()
	defer func() { srv.Process.Kill(); srv.Wait() }()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := map[string]int{}
	rows, err := db.Query(`SELECT number FROM cases WHERE number IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		stored[n]++
	}
	rows.Close()
	for n, times := range got {
		if times != 1 {
			t.Errorf("number %s answered %d times", n, times)
		}
		if stored[n] != 1 {
			t.Errorf("acknowledged case %s stored %d times after the crash", n, stored[n])
		}
	}
	var events, cases int
	db.QueryRow(`SELECT COUNT(*) FROM cases`).Scan(&cases)
	db.QueryRow(`SELECT COUNT(*) FROM case_events WHERE action = 'submit'`).Scan(&events)
	if events != len(stored) {
		t.Errorf("%d submission events for %d numbered cases: a case and its event must commit together", events, len(stored))
	}
	t.Logf("%d submissions acknowledged before SIGKILL, %d cases stored (%d numbered); all acknowledged ones present once",
		len(got), cases, len(stored))
}

package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yiwang/internal/app/apptest"
	"yiwang/internal/catalog"
)

// uploader is a signed-in browser that can post files (apptest.Client
// posts forms only).
type uploader struct {
	base string
	hc   *http.Client
}

func newUploader(t *testing.T, e *apptest.Env, username string) *uploader {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u := &uploader{base: e.Server.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	res, err := u.hc.PostForm(u.base+"/console/login", url.Values{"username": {username}, "password": {e.Logins[username]}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console" {
		t.Fatalf("login %s: %d %s", username, res.StatusCode, res.Header.Get("Location"))
	}
	return u
}

func (u *uploader) do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := u.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func (u *uploader) get(t *testing.T, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", u.base+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	return u.do(t, req)
}

func (u *uploader) upload(t *testing.T, name string, data []byte, mode string) (*http.Response, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.WriteField("mode", mode)
	mw.Close()
	req, _ := http.NewRequest("POST", u.base+"/console/items/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return u.do(t, req)
}

// TestCatalogImportExport uploads a CSV with a good and a bad row through
// the console, follows the job until it ends, and reads the report; then it
// exports the imported item as CSV and xlsx and parses both back.
func TestCatalogImportExport(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			var uscc, policeUSCC string
			if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT uscc FROM departments WHERE name = $1`, "呼和浩特市卫生健康委员会").Scan(&uscc); err != nil {
				t.Fatal(err)
			}
			if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT uscc FROM departments WHERE name = $1`, "呼和浩特市公安局").Scan(&policeUSCC); err != nil {
				t.Fatal(err)
			}
			good := catalog.Item{
				BasicCode: catalog.BasicCode("150000", "GG", 9901, 0), Name: "导入测试事项甲", Type: "GG", Level: 3, Region: "150100",
				DeptName: "呼和浩特市卫生健康委员会", DeptUSCC: uscc, Audiences: []catalog.Audience{catalog.Person},
				PromisedLimit: catalog.TimeLimit{Days: 5, Unit: catalog.Workday}, Kind: catalog.Promised,
				Materials: []catalog.Material{{Name: "居民身份证", Type: 1, Source: 20, Necessity: 1, Form: 3, Originals: 1}},
				Depth:     catalog.Depth{Codes: []int{1, 2, 3, 4, 5, 6}, Level: 4}, Channels: []catalog.Channel{catalog.Online, catalog.Window},
				Scope: "province",
				// The decision goes to another department's approvers, named by credit code.
				Steps: []catalog.Step{{Name: "审查"}, {Name: "决定", DeptUSCC: policeUSCC, Role: catalog.StepApprover}},
			}
			badStep := good
			badStep.BasicCode = catalog.BasicCode("150000", "GG", 9903, 0) // row 4: an unknown step department
			badStep.Steps = []catalog.Step{{Name: "审查"}, {Name: "决定", DeptUSCC: "91150100MA0000000X"}}
			bad := good
			bad.BasicCode, bad.Name = catalog.BasicCode("150000", "GG", 9902, 0), "" // row 3: no name
			var data bytes.Buffer
			w, _ := catalog.NewCSVWriter(&data, catalog.DefaultTypes)
			w.Write(good)
			w.Write(bad)
			w.Write(badStep)
			w.Flush()

			for _, sc := range []apptest.Scenario{
				{Name: "form", As: "hohhot", Path: "/console/items/import", Status: 200, Contains: []string{"导入事项", `enctype="multipart/form-data"`, "全部导入或全部不导入", "仅导入有效行"}},
				{Name: "form needs catalog.edit", As: "clerk", Path: "/console/items/import", Status: 403},
				{Name: "export needs sign-in", Path: "/console/items/export?format=csv", Status: 303},
				{Name: "export format", As: "hohhot", Path: "/console/items/export?format=pdf", Status: 422, Contains: []string{"导出格式"}},
			} {
				t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
			}

			u := newUploader(t, e, "hohhot")
			if res, body := u.upload(t, "items.pdf", []byte("%PDF-1.4"), "all"); res.StatusCode != 422 || !strings.Contains(string(body), "只能导入 .xlsx 或 .csv") {
				t.Fatalf("pdf upload: %d %.300s", res.StatusCode, body)
			}
			res, body := u.upload(t, "事项.csv", data.Bytes(), "valid")
			loc := res.Header.Get("Location")
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/items/import/jobs/") {
				t.Fatalf("upload: %d %q %.500s", res.StatusCode, loc, body)
			}
			// Poll the fragment as htmx does until it stops asking to be polled.
			var frag string
			for deadline := time.Now().Add(30 * time.Second); ; {
				res, body := u.get(t, loc, http.Header{"Hx-Request": {"true"}})
				if res.StatusCode != 200 {
					t.Fatalf("poll: %d %.300s", res.StatusCode, body)
				}
				frag = string(body)
				if strings.Contains(frag, "<html") {
					t.Fatal("htmx poll got the whole page, want the fragment")
				}
				if !strings.Contains(frag, `hx-trigger="every 1s"`) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("import still running: %s", frag)
				}
				time.Sleep(50 * time.Millisecond)
			}
			for _, want := range []string{"导入完成", `id="import-created">1<`, `id="import-updated">0<`, "第 3 行", "事项名称", "请填写事项名称", "第 4 行", "环节办理部门不存在", "跳过2行"} {
				if !strings.Contains(frag, want) {
					t.Errorf("report lacks %q: %s", want, frag)
				}
			}
			if res, body := u.get(t, loc, nil); res.StatusCode != 200 || !strings.Contains(string(body), "第 3 行") || !strings.Contains(string(body), "<html") {
				t.Errorf("report page: %d", res.StatusCode)
			}
			if !strings.Contains(frag, `href="`+loc+`/errors.csv"`) {
				t.Errorf("report lacks the bad rows' download link: %s", frag)
			}
			// Every bad row, as CSV with a BOM.
			res, body = u.get(t, loc+"/errors.csv", nil)
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
				t.Fatalf("bad rows download: %d %q %q %.300s", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"), body)
			}
			if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
				t.Error("bad rows CSV lacks the UTF-8 BOM")
			}
			recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF")))).ReadAll()
			if err != nil {
				t.Fatalf("bad rows CSV: %v", err)
			}
			var stored string
			if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT errors FROM catalog_imports WHERE id = $1`, path.Base(loc)).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			var rowErrs []catalog.RowError
			if err := json.Unmarshal([]byte(stored), &rowErrs); err != nil {
				t.Fatal(err)
			}
			want := [][]string{{"行号", "列", "原因"}}
			for _, re := range rowErrs {
				want = append(want, []string{strconv.Itoa(re.Row), re.Column, re.Reason})
			}
			if diff := cmp.Diff(want, recs); diff != "" || len(recs) < 3 || recs[1][0] != "3" || recs[1][2] != "请填写事项名称" {
				t.Errorf("bad rows CSV mismatch (-want +got):\n%s", diff)
			}
			for _, sc := range []apptest.Scenario{
				{Name: "bad rows hidden from others", As: "deptadmin", Path: loc + "/errors.csv", Status: 404},
				{Name: "bad rows need sign-in", Path: loc + "/errors.csv", Status: 303},
				{Name: "job hidden from others", As: "deptadmin", Path: loc, Status: 404},
				{Name: "job visible to the region's admin", As: "region", Path: loc, Status: 200, Contains: []string{"导入完成"}},
				{Name: "imported draft in the list", As: "hohhot", Path: "/console/items?status=draft&q=导入测试", Status: 200, Contains: []string{"导入测试事项甲"}},
			} {
				t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
			}

			// Export the imported item, as CSV and as xlsx, and read both back.
			for _, f := range []struct{ format, ctype string }{
				{"csv", "text/csv; charset=utf-8"},
				{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
			} {
				res, body := u.get(t, "/console/items/export?format="+f.format+"&status=draft&q="+url.QueryEscape("导入测试"), nil)
				if res.StatusCode != 200 || res.Header.Get("Content-Type") != f.ctype || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
					t.Fatalf("export %s: %d %q %q %.200s", f.format, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"), body)
				}
				sheet, err := catalog.Parse("export."+f.format, body, catalog.DefaultTypes)
				if err != nil {
					t.Fatalf("export %s does not parse: %v", f.format, err)
				}
				if len(sheet.Rows) != 1 || sheet.BadRows() != 0 || sheet.Rows[0].Item.Name != "导入测试事项甲" || sheet.Rows[0].Item.DeptUSCC != uscc ||
					len(sheet.Rows[0].Item.Steps) != 2 || sheet.Rows[0].Item.Steps[1].DeptUSCC != policeUSCC || sheet.Rows[0].Item.Steps[1].Role != catalog.StepApprover {
					t.Fatalf("export %s rows = %+v", f.format, sheet.Rows)
				}
				if f.format == "csv" && !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
					t.Error("CSV export lacks the UTF-8 BOM")
				}
			}
			// Someone who sees nothing of Hohhot exports a header row only.
			d := newUploader(t, e, "deptadmin")
			res, body = d.get(t, "/console/items/export?format=csv&q="+url.QueryEscape("导入测试"), nil)
			if sheet, err := catalog.Parse("x.csv", body, catalog.DefaultTypes); res.StatusCode != 200 || err != nil || len(sheet.Rows) != 0 {
				t.Fatalf("out-of-scope export: %d %v %+v", res.StatusCode, err, sheet)
			}
		})
	}
}

// TestCatalogImportCancel holds import jobs at known points with the
// service's import hook and cancels them through the console: while
// validating and inside the write transaction (nothing is written, the
// job ends 已取消, in the database too), and once committing (409, the
// items are saved). Others cannot cancel a job they cannot see, other
// sites cannot post the form, and an ended job cannot be cancelled.
func TestCatalogImportCancel(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			var uscc string
			if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT uscc FROM departments WHERE name = $1`, "呼和浩特市卫生健康委员会").Scan(&uscc); err != nil {
				t.Fatal(err)
			}
			file := func(name string, code int) []byte {
				it := catalog.Item{
					BasicCode: catalog.BasicCode("150000", "GG", code, 0), Name: name, Type: "GG", Level: 3, Region: "150100",
					DeptName: "呼和浩特市卫生健康委员会", DeptUSCC: uscc, Audiences: []catalog.Audience{catalog.Person},
					PromisedLimit: catalog.TimeLimit{Days: 5, Unit: catalog.Workday}, Kind: catalog.Promised,
					Materials: []catalog.Material{{Name: "居民身份证", Type: 1, Source: 20, Necessity: 1, Form: 3, Originals: 1}},
					Depth:     catalog.Depth{Codes: []int{1, 2, 3, 4, 5, 6}, Level: 4}, Channels: []catalog.Channel{catalog.Online, catalog.Window},
					Scope: "province",
				}
				var b bytes.Buffer
				w, _ := catalog.NewCSVWriter(&b, catalog.DefaultTypes)
				w.Write(it)
				w.Flush()
				return b.Bytes()
			}
			items := func(name string) int {
				var n int
				if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM catalog_items i JOIN catalog_item_versions v ON v.item_id = i.id WHERE v.data LIKE $1`, "%"+name+"%").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			stored := func(loc string) string {
				if err := e.App.Catalog.WaitImports(t.Context()); err != nil {
					t.Fatal(err)
				}
				var status string
				if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT status FROM catalog_imports WHERE id = $1`, path.Base(loc)).Scan(&status); err != nil {
					t.Fatal(err)
				}
				return status
			}
			// hold makes jobs stop at point and report there; a held job
			// goes on when its context is done or release is closed.
			hold := func(point string) (reached chan struct{}, release chan struct{}) {
				reached, release = make(chan struct{}, 1), make(chan struct{})
				e.App.Catalog.SetImportHook(func(ctx context.Context, _, p string) {
					if p != point {
						return
					}
					reached <- struct{}{}
					select {
					case <-ctx.Done():
					case <-release:
					}
				})
				return reached, release
			}
			t.Cleanup(func() { e.App.Catalog.SetImportHook(nil) })
			u := newUploader(t, e, "hohhot")
			start := func(name string, code int, reached chan struct{}) string {
				t.Helper()
				res, body := u.upload(t, "事项.csv", file(name, code), "all")
				loc := res.Header.Get("Location")
				if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/items/import/jobs/") {
					t.Fatalf("upload: %d %q %.500s", res.StatusCode, loc, body)
				}
				select {
				case <-reached:
				case <-time.After(30 * time.Second):
					t.Fatal("the job never reached the hook")
				}
				return loc
			}
			// Sign in before any job holds SQLite's one writer (signing in
			// writes a session).
			clients := map[string]*apptest.Client{}
			for _, who := range []string{"hohhot", "deptadmin", "region"} {
				clients[who] = e.LoginDemo(t, who)
			}
			post := func(who, path string, header http.Header) (int, string) {
				t.Helper()
				res := clients[who].Do(t, "POST", path, url.Values{}, header)
				return res.Status, res.Body
			}

			for i, point := range []string{"check", "write"} {
				t.Run("cancel at "+point, func(t *testing.T) {
					reached, _ := hold(point)
					name := "取消测试事项" + point
					loc := start(name, 9950+i, reached)
					if res, body := u.get(t, loc, http.Header{"Hx-Request": {"true"}}); res.StatusCode != 200 || !strings.Contains(string(body), `action="`+loc+`/cancel"`) {
						t.Fatalf("running job lacks the cancel form: %d %s", res.StatusCode, body)
					}
					if st, body := post("deptadmin", loc+"/cancel", nil); st != 404 {
						t.Errorf("someone else's cancel: %d %.300s", st, body)
					}
					if st, _ := post("hohhot", loc+"/cancel", http.Header{"Sec-Fetch-Site": {"cross-site"}}); st != 403 {
						t.Errorf("cross-site cancel: %d, want 403", st)
					}
					req, _ := http.NewRequest("POST", u.base+loc+"/cancel", strings.NewReader(""))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					if res, body := u.do(t, req); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != loc {
						t.Fatalf("cancel: %d %q %.300s", res.StatusCode, res.Header.Get("Location"), body)
					}
					res, body := u.get(t, loc, http.Header{"Hx-Request": {"true"}})
					frag := string(body)
					if res.StatusCode != 200 || !strings.Contains(frag, "已取消") || !strings.Contains(frag, "未保存任何数据") || strings.Contains(frag, "hx-trigger") {
						t.Errorf("cancelled job's fragment: %d %s", res.StatusCode, frag)
					}
					if got := stored(loc); got != catalog.ImportCanceled {
						t.Errorf("stored status = %q, want %q", got, catalog.ImportCanceled)
					}
					if n := items(name); n != 0 {
						t.Errorf("cancelled import wrote %d items", n)
					}
					var audited int
					if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_log WHERE target_id = $1`, path.Base(loc)).Scan(&audited); err != nil {
						t.Fatal(err)
					}
					if audited != 0 {
						t.Errorf("cancelled import audited %d times", audited)
					}
					// After the job has gone from memory, from the database.
					for _, sc := range []apptest.Scenario{
						{Name: "page", As: "hohhot", Path: loc, Status: 200, Contains: []string{"已取消", "导入已由", "未保存任何数据"}, NotContains: []string{`action="` + loc + `/cancel"`}},
						{Name: "again", As: "hohhot", Method: "POST", Path: loc + "/cancel", Form: url.Values{}, Status: 409, Contains: []string{"已结束（已取消），不能取消"}},
					} {
						t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
					}
				})
			}

			t.Run("too late once committing", func(t *testing.T) {
				reached, release := hold("commit")
				loc := start("取消测试事项提交", 9960, reached)
				st, body := post("region", loc+"/cancel", nil) // the region's admin sees the job
				close(release)
				if st != 409 || !strings.Contains(body, "导入正在保存，已无法取消") {
					t.Errorf("cancel while committing: %d %.500s", st, body)
				}
				if got := stored(loc); got != catalog.ImportDone {
					t.Errorf("stored status = %q, want %q", got, catalog.ImportDone)
				}
				if n := items("取消测试事项提交"); n != 1 {
					t.Errorf("committed import has %d items, want 1", n)
				}
				for _, sc := range []apptest.Scenario{
					{Name: "finished", As: "hohhot", Method: "POST", Path: loc + "/cancel", Form: url.Values{}, Status: 409, Contains: []string{"导入已完成，事项草稿已保存，不能取消"}},
					{Name: "finished, others", As: "deptadmin", Method: "POST", Path: loc + "/cancel", Form: url.Values{}, Status: 404},
					{Name: "no such job", As: "hohhot", Method: "POST", Path: "/console/items/import/jobs/nope/cancel", Form: url.Values{}, Status: 404},
				} {
					t.Run(sc.Name, func(t *testing.T) { sc.Run(t, e) })
				}
			})
		})
	}
}

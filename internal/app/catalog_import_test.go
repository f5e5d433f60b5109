package app_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

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
			var csv bytes.Buffer
			w, _ := catalog.NewCSVWriter(&csv, catalog.DefaultTypes)
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
			res, body := u.upload(t, "事项.csv", csv.Bytes(), "valid")
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
			for _, sc := range []apptest.Scenario{
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

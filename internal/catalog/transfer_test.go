package catalog

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/idcode"
)

// demoItems returns every demo kind placed in a county, as stored: checked,
// with the department's name, credit code and the implementation code.
func demoItems(t testing.TB) []Item {
	t.Helper()
	uscc, err := idcode.NewUSCC('1', '1', "150102", "12345678")
	if err != nil {
		t.Fatal(err)
	}
	var out []Item
	for _, k := range demoKinds() {
		it := k.place("150000", demoPlace{level: 4, code: "150102", name: "新城区", here: "本区"}, "dept-1")
		it.DeptName, it.DeptUSCC = "新城区卫生健康委员会", uscc
		if err := it.Check(DefaultTypes); err != nil {
			t.Fatalf("demo item %s: %v", it.Name, err)
		}
		it.Code = ImplementationCode(it.DeptUSCC, it.Level, it.BasicCode)
		out = append(out, it)
	}
	return out
}

func exportCSV(t testing.TB, items []Item) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := NewCSVWriter(&b, DefaultTypes)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := w.Write(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func exportXLSX(t testing.TB, items []Item) []byte {
	t.Helper()
	w, err := NewXLSXWriter(DefaultTypes)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := w.Write(it); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := w.Finish(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withoutDept is it as an import reads it back: the department's internal
// id is not exported (the credit code names it).
func withoutDept(items []Item) []Item {
	out := make([]Item, len(items))
	for i, it := range items {
		it.DeptID = ""
		out[i] = it
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	items := demoItems(t)
	// Sub-fields with the separator, a backslash and line breaks survive too.
	odd := cloneItem(items[0])
	odd.Materials[0].Notes = "第一行\n第二行｜带竖线\\带反斜杠\\n不是换行"
	odd.LegalBasis[0].Content = "条文\r\n含换行"
	odd.Conditions = "多行\n受理条件，含｜竖线"
	odd.LegalLimit.Note = "不含公示时间｜和听证"
	items = append(items, odd)
	want := withoutDept(items)
	want[len(want)-1].LegalBasis[0].Content = "条文\n含换行" // CR LF inside an entry reads back as LF
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"csv", exportCSV(t, items)},
		{"xlsx", exportXLSX(t, items)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sheet, err := Parse("items."+tc.name, tc.data, DefaultTypes)
			if err != nil {
				t.Fatal(err)
			}
			if len(sheet.Rows) != len(items) {
				t.Fatalf("rows = %d, want %d", len(sheet.Rows), len(items))
			}
			for i, r := range sheet.Rows {
				if len(r.Errors) > 0 {
					t.Errorf("row %d (%s): %v", r.Row, items[i].Name, r.Errors)
					continue
				}
				if r.Row != i+2 {
					t.Errorf("row number = %d, want %d", r.Row, i+2)
				}
				if diff := cmp.Diff(want[i], r.Item, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("item %d (%s) mismatch (-want +got):\n%s", i, items[i].Name, diff)
				}
			}
		})
	}
}

func TestCSVHasBOMAndHeaders(t *testing.T) {
	data := exportCSV(t, demoItems(t)[:1])
	if !bytes.HasPrefix(data, []byte("\xEF\xBB\xBF基本编码,实施编码,事项名称")) {
		t.Fatalf("CSV starts %q", data[:40])
	}
	for _, want := range []string{"行政许可", "自然人", "个工作日", "申请人自备", "Ⅳ级（全程网办）", "｜"} {
		if !bytes.Contains(exportCSV(t, demoItems(t)), []byte(want)) {
			t.Errorf("CSV export lacks the label %q", want)
		}
	}
}

// csvOf builds a CSV from a header and rows of cells, by header name.
func csvOf(header []string, rows ...map[string]string) []byte {
	var b strings.Builder
	b.WriteString(strings.Join(header, ",") + "\n")
	for _, r := range rows {
		cells := make([]string, len(header))
		for i, h := range header {
			cells[i] = `"` + strings.ReplaceAll(r[h], `"`, `""`) + `"`
		}
		b.WriteString(strings.Join(cells, ",") + "\n")
	}
	return []byte(b.String())
}

// goodRow is the first demo item as cells, by header.
func goodRow(t testing.TB) map[string]string {
	t.Helper()
	it := demoItems(t)[0]
	cells := exportRow(it, typeNames(DefaultTypes))
	m := map[string]string{}
	for i, h := range Headers() {
		m[h] = cells[i]
	}
	return m
}

func TestParseRowErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change map[string]string
		column string // the column the error names
		reason string // part of the reason
	}{
		{"missing name", map[string]string{"事项名称": ""}, "事项名称", "请填写事项名称"},
		{"unknown type", map[string]string{"事项类型": "行政许可证"}, "事项类型", "无法识别的事项类型"},
		{"type by code", map[string]string{"事项类型": "XX"}, "事项类型", "无法识别"},
		{"bad level", map[string]string{"行使层级": "区级"}, "行使层级", "行使层级应为"},
		{"bad region", map[string]string{"实施地区": "15010"}, "实施地区", "请选择实施地区"},
		{"missing credit code", map[string]string{"实施主体统一社会信用代码": ""}, "实施主体统一社会信用代码", "请填写"},
		{"bad credit code", map[string]string{"实施主体统一社会信用代码": "91350100M000100Y44"}, "实施主体统一社会信用代码", ""},
		{"unknown audience", map[string]string{"服务对象": "自然人\n外星人"}, "服务对象", "外星人"},
		{"no audience", map[string]string{"服务对象": ""}, "服务对象", "请选择服务对象"},
		{"limit without unit", map[string]string{"承诺办结时限": "5天"}, "承诺办结时限", "须注明工作日或自然日"},
		{"limit not a number", map[string]string{"法定办结时限": "二十个工作日"}, "法定办结时限", "时限应写成"},
		{"promised longer than legal", map[string]string{"承诺办结时限": "30个工作日"}, "承诺办结时限", "不能长于法定"},
		{"bad kind", map[string]string{"办件类型": "急办件"}, "办件类型", "即办件或承诺件"},
		{"material type", map[string]string{"申请材料": "居民身份证｜身份证件｜申请人自备｜必要｜纸质｜1｜0"}, "申请材料", "第1项：材料类型"},
		{"material copies", map[string]string{"申请材料": "居民身份证｜证件证书证明｜申请人自备｜必要｜纸质｜一｜0"}, "申请材料", "原件份数"},
		{"material too many parts", map[string]string{"申请材料": "a｜证件证书证明｜申请人自备｜必要｜纸质｜1｜0｜A4｜须知｜x｜y｜z"}, "申请材料", "最多11个"},
		{"material name short (Check)", map[string]string{"申请材料": "居民身份证｜证件证书证明｜申请人自备｜必要｜纸质｜1｜0\n证｜证件证书证明｜申请人自备｜必要｜纸质｜1｜0"}, "申请材料", "第2项：材料名称至少2个字"},
		{"charged without basis", map[string]string{"是否收费": "是", "收费项目": "工本费", "是否支持网上支付": "是"}, "收费依据", "收费依据"},
		{"yes/no", map[string]string{"一窗通办": "对"}, "一窗通办", "是”或“否"},
		{"depth level", map[string]string{"网上办理深度等级": "五级"}, "网上办理深度等级", "Ⅰ级"},
		{"depth code", map[string]string{"网上办理深度": "互联网咨询\n上门服务"}, "网上办理深度", "上门服务"},
		{"full online with a visit (inconsistent)", map[string]string{"网上办理深度等级": "Ⅳ级（全程网办）", "到办事现场次数": "1", "必须现场办理原因": "核验"}, "到办事现场次数", "全程网办"},
		{"visits not a number", map[string]string{"到办事现场次数": "-1"}, "到办事现场次数", "0至10"},
		{"channel", map[string]string{"办理形式": "信鸽"}, "办理形式", "信鸽"},
		{"scope", map[string]string{"通办范围": "全球通办"}, "通办范围", "通办范围应为"},
		{"cross-province mode without scope", map[string]string{"通办范围": "全市通办", "跨省通办模式": "全程网办"}, "跨省通办模式", "只有全国或跨省"},
		{"keyword too long", map[string]string{"关键词": strings.Repeat("长", 31)}, "关键词", "1至30个字"},
		{"basic code", map[string]string{"基本编码": "15xk0010100"}, "基本编码", "12位"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row := goodRow(t)
			if tc.name == "promised longer than legal" {
				row["办件类型"], row["法定办结时限"] = "承诺件", "20个工作日"
			}
			for k, v := range tc.change {
				row[k] = v
			}
			sheet, err := ParseCSV(bytes.NewReader(csvOf(Headers(), goodRow(t), row)), DefaultTypes)
			if err != nil {
				t.Fatal(err)
			}
			if len(sheet.Rows) != 2 || len(sheet.Rows[0].Errors) != 0 {
				t.Fatalf("rows = %+v", sheet.Rows)
			}
			got := sheet.Rows[1]
			if got.Row != 3 {
				t.Errorf("row = %d, want 3", got.Row)
			}
			for _, e := range got.Errors {
				if e.Row == 3 && e.Column == tc.column && strings.Contains(e.Reason, tc.reason) {
					return
				}
			}
			t.Errorf("errors = %+v, want one on column %q containing %q", got.Errors, tc.column, tc.reason)
		})
	}
}

func TestParseFileErrors(t *testing.T) {
	good := exportCSV(t, demoItems(t)[:2])
	noBOM := good[3:]
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(noBOM)
	if err != nil {
		t.Fatal(err)
	}
	utf16 := []byte{0xFF, 0xFE, 'a', 0}
	headers := Headers()
	for _, tc := range []struct {
		name, file string
		data       []byte
		want       string // part of the message; "" means it parses
		rows       int
		notice     bool
	}{
		{name: "utf-8 with BOM", file: "a.csv", data: good, rows: 2},
		{name: "utf-8 without BOM", file: "a.csv", data: noBOM, rows: 2},
		{name: "GBK is converted", file: "a.csv", data: gbk, rows: 2, notice: true},
		{name: "not GBK either", file: "a.csv", data: []byte("基本编码\xff\xff\xff,\x81\n"), want: "文件编码无法识别"},
		{name: "UTF-16", file: "a.csv", data: utf16, want: "UTF-16"},
		{name: "empty", file: "a.csv", data: nil, want: "文件是空的"},
		{name: "only spaces", file: "a.csv", data: []byte("\xEF\xBB\xBF \n\n"), want: "文件是空的"},
		{name: "header only", file: "a.csv", data: []byte(strings.Join(headers, ",") + "\n"), rows: 0},
		{name: "unknown header", file: "a.csv", data: csvOf(append(headers[:len(headers):len(headers)], "备注")), want: "无法识别的列：“备注”"},
		{name: "missing required header", file: "a.csv", data: csvOf(headers[1:]), want: "缺少必填的列：“基本编码”"},
		{name: "duplicate header", file: "a.csv", data: csvOf(append(headers[:len(headers):len(headers)], "事项名称")), want: "重复的列：“事项名称”"},
		{name: "headers in another order", file: "a.csv", data: csvOf(reversed(headers), goodRow(t)), rows: 1},
		{name: "bad quotes", file: "a.csv", data: []byte(strings.Join(headers, ",") + "\n\"abc,def\n\"x\"y\n"), want: "CSV 格式错误"},
		{name: "xls", file: "a.xls", data: append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 100)...), want: "Excel 97-2003"},
		{name: "garbage xlsx", file: "a.xlsx", data: []byte("PK\x03\x04garbage garbage"), want: "不是有效的 .xlsx"},
		{name: "xlsx named but text", file: "a.xlsx", data: []byte("hello"), want: "不是有效的 .xlsx"},
		{name: "pdf", file: "a.pdf", data: []byte("%PDF-1.4"), want: "只能导入 .xlsx 或 .csv"},
		{name: "wrong sheet", file: "a.xlsx", data: xlsxWith(t, "Sheet1", [][]string{{"姓名", "电话"}, {"张三", "123"}}), want: "工作表“Sheet1”的表头有误"},
		{name: "empty sheet", file: "a.xlsx", data: xlsxWith(t, "Sheet1", nil), want: "是空的"},
		{name: "too many rows", file: "a.csv", data: manyRows(MaxImportRows + 1), want: "超过10000行"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sheet, err := Parse(tc.file, tc.data, DefaultTypes)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(sheet.Rows) != tc.rows || sheet.BadRows() != 0 {
					t.Fatalf("rows = %d (bad %d), want %d: %+v", len(sheet.Rows), sheet.BadRows(), tc.rows, sheet.Rows)
				}
				if (sheet.Notice != "") != tc.notice {
					t.Errorf("notice = %q", sheet.Notice)
				}
				return
			}
			if errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.Message(err), tc.want) {
				t.Fatalf("err = %v, want Invalid containing %q", err, tc.want)
			}
		})
	}
}

func TestGBKContentSurvives(t *testing.T) {
	items := demoItems(t)[:1]
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(exportCSV(t, items)[3:])
	if err != nil {
		t.Fatal(err)
	}
	sheet, err := ParseCSV(bytes.NewReader(gbk), DefaultTypes)
	if err != nil || len(sheet.Rows) != 1 || len(sheet.Rows[0].Errors) > 0 {
		t.Fatalf("ParseCSV(GBK) = %+v, %v", sheet, err)
	}
	if diff := cmp.Diff(withoutDept(items)[0], sheet.Rows[0].Item, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("GBK item mismatch (-want +got):\n%s", diff)
	}
}

func TestXLSXRowNumbersSkipBlankRows(t *testing.T) {
	row := goodRow(t)
	cells := make([]string, len(Headers()))
	for i, h := range Headers() {
		cells[i] = row[h]
	}
	bad := append([]string(nil), cells...)
	bad[2] = "" // 事项名称
	data := xlsxWith(t, XLSXSheet, [][]string{Headers(), cells, nil, nil, bad})
	sheet, err := Parse("x.xlsx", data, DefaultTypes)
	if err != nil {
		t.Fatal(err)
	}
	if len(sheet.Rows) != 2 || sheet.Rows[1].Row != 5 || len(sheet.Rows[1].Errors) == 0 || sheet.Rows[1].Errors[0].Column != "事项名称" {
		t.Fatalf("rows = %+v", sheet.Rows)
	}
}

func TestFieldErrorsMapEveryCheckKey(t *testing.T) {
	var it Item // everything missing or wrong
	it.Fee = Fee{Charged: true}
	it.Materials = []Material{{}}
	it.LegalBasis = []LegalBasis{{}}
	it.Special = []Special{{Limit: TimeLimit{Days: 3}}}
	it.Steps = []Step{{}}
	it.Results = []Result{{}}
	it.Depth = Depth{Codes: []int{9}, Level: 4}
	it.Visits = 2
	it.CrossProvince = "x"
	it.Themes = []string{strings.Repeat("主", 31)}
	it.Keywords, it.Aliases = it.Themes, it.Themes
	it.DeptUSCC = "bad"
	err := it.Check(DefaultTypes)
	for _, e := range FieldErrors(2, err) {
		if e.Column == "" {
			t.Errorf("no column for %+v", e)
		}
	}
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func manyRows(n int) []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(Headers(), ",") + "\n")
	for i := range n {
		fmt.Fprintf(&b, "X%d\n", i)
	}
	return b.Bytes()
}

// xlsxWith makes a workbook with one sheet of string cells.
func xlsxWith(t testing.TB, sheet string, rows [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if sheet != "Sheet1" {
		if err := f.SetSheetName("Sheet1", sheet); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range rows {
		vals := make([]any, len(r))
		for j, c := range r {
			vals[j] = c
		}
		if len(vals) == 0 {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &vals); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestEveryElementHasAColumn fails when Item gains an element that export
// and import do not carry: add a column for it in transfer.go.
func TestEveryElementHasAColumn(t *testing.T) {
	var keys []string
	for _, c := range columns {
		keys = append(keys, c.keys...)
	}
	it := reflect.TypeFor[Item]()
	for i := range it.NumField() {
		name, _, _ := strings.Cut(it.Field(i).Tag.Get("json"), ",")
		if name == "dept_id" { // internal: the credit code names the department
			continue
		}
		if !slices.ContainsFunc(keys, func(k string) bool { return k == name || strings.HasPrefix(k, name+".") }) {
			t.Errorf("element %s (%q) has no import/export column in transfer.go", it.Field(i).Name, name)
		}
	}
}

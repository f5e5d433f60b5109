package catalog

import (
	"bytes"
	"encoding/csv"
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

// TestDefuse covers the CSV cell rule against formula injection (OWASP):
// what export writes for a value, and what import reads back from a cell,
// typed by hand or exported.
func TestDefuse(t *testing.T) {
	for _, tc := range []struct {
		value, cell string // cell: what the CSV export writes for value
	}{
		{"=1+1", "'=1+1"},
		{`=HYPERLINK("http://x","点我")`, `'=HYPERLINK("http://x","点我")`},
		{"+86 471 1234567", "'+86 471 1234567"},
		{"-5", "'-5"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\r=1", "'\r=1"}, // excelWriter drops the CR before defusing
		{"'=1", "''=1"},   // an apostrophe of its own survives the round trip
		{"''-1", "'''-1"},
		{"'0471", "'0471"}, // not before a formula character: as it is
		{"'", "'"},
		{"", ""},
		{"a=b", "a=b"},
		{" =1", " =1"},
		{"＝1", "＝1"}, // full-width
	} {
		t.Run(tc.value, func(t *testing.T) {
			cell := defuse(tc.value)
			if cell != tc.cell {
				t.Errorf("defuse(%q) = %q, want %q", tc.value, cell, tc.cell)
			}
			if strings.ContainsAny(cell[:min(1, len(cell))], formulaStarts) {
				t.Errorf("defuse(%q) = %q starts with a formula character", tc.value, cell)
			}
			if got := undefuse(cell); got != tc.value {
				t.Errorf("undefuse(%q) = %q, want %q", cell, got, tc.value)
			}
			if got := undefuse(xlsxCell(tc.value)); got != tc.value {
				t.Errorf("undefuse(xlsxCell(%q)) = %q (cell %q), want %q", tc.value, got, xlsxCell(tc.value), tc.value)
			}
		})
	}
	// Cells people type: an apostrophe goes only before a formula character.
	for cell, want := range map[string]string{"'=x": "=x", "'@x": "@x", "'-1": "-1", "'+1": "+1", "'\tx": "\tx", "'abc": "'abc", "''=x": "'=x", "=x": "=x", "''": "''"} {
		if got := undefuse(cell); got != want {
			t.Errorf("undefuse(%q) = %q, want %q", cell, got, want)
		}
	}
}

func TestCSVExportDefusesFormulas(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   func(it *Item, v string)
		value string
		want  string // in the CSV bytes, with the commas around the cell
	}{
		{"name =", func(it *Item, v string) { it.Name = v }, "=1+2事项", ",'=1+2事项,"},
		{"name +", func(it *Item, v string) { it.Name = v }, "+出生医学证明", ",'+出生医学证明,"},
		{"name -", func(it *Item, v string) { it.Name = v }, "-出生医学证明", ",'-出生医学证明,"},
		{"name @", func(it *Item, v string) { it.Name = v }, "@SUM(A1)", ",'@SUM(A1),"},
		{"name tab", func(it *Item, v string) { it.Name = v }, "\t出生医学证明", ",'\t出生医学证明,"},
		{"name CR", func(it *Item, v string) { it.Name = v }, "\r=出生医学证明", ",'=出生医学证明,"},
		{"name with its own apostrophe", func(it *Item, v string) { it.Name = v }, "'=出生医学证明", ",''=出生医学证明,"},
		{"apostrophe alone is kept", func(it *Item, v string) { it.Name = v }, "'出生医学证明", ",'出生医学证明,"},
		{"quoted cell", func(it *Item, v string) { it.Name = v }, `=HYPERLINK("http://x","点我")`, `,"'=HYPERLINK(""http://x"",""点我"")",`},
		{"phone", func(it *Item, v string) { it.Contact.Phone = v }, "+86-471-12345", ",'+86-471-12345,"},
		{"first keyword", func(it *Item, v string) { it.Keywords = []string{v, "出生"} }, "=cmd|' /C calc'!A0", `,"'=cmd|' /C calc'!A0` + "\r\n" + `出生",`},
		{"first legal basis", func(it *Item, v string) { it.LegalBasis[0].Name = v }, "-《母婴保健法》", ",'-《母婴保健法》｜"},
		{"the middle of a cell is left alone", func(it *Item, v string) { it.Name = v }, "事项=1+1", ",事项=1+1,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := cloneItem(demoItems(t)[0])
			tc.set(&it, tc.value)
			data := exportCSV(t, []Item{it})
			if !bytes.Contains(data, []byte(tc.want)) {
				t.Errorf("CSV export of %q lacks %q:\n%s", tc.value, tc.want, data)
			}
		})
	}
}

// TestXLSXCellsAreStrings checks that excelize writes formula-like text as
// a string cell, with no formula and no apostrophe: .xlsx needs no defusing.
func TestXLSXCellsAreStrings(t *testing.T) {
	it := cloneItem(demoItems(t)[0])
	it.Name, it.Conditions, it.Contact.Phone = "=1+2事项", "@SUM(A1)", "+86-471-12345"
	it.Contact.Hours = "'=x" // its own apostrophe gets a second one, which import removes
	data := exportXLSX(t, []Item{it})
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for header, want := range map[string]string{"事项名称": "=1+2事项", "受理条件": "@SUM(A1)", "咨询电话": "+86-471-12345", "办理时间": "''=x"} {
		cell, _ := excelize.CoordinatesToCellName(slices.Index(Headers(), header)+1, 2)
		if formula, err := f.GetCellFormula(XLSXSheet, cell); err != nil || formula != "" {
			t.Errorf("%s (%s) formula = %q, %v; want none", header, cell, formula, err)
		}
		if got, err := f.GetCellValue(XLSXSheet, cell); err != nil || got != want {
			t.Errorf("%s (%s) = %q, %v; want %q", header, cell, got, err, want)
		}
		if typ, err := f.GetCellType(XLSXSheet, cell); err != nil || typ != excelize.CellTypeInlineString {
			t.Errorf("%s (%s) type = %v, %v; want an inline string", header, cell, typ, err)
		}
	}
}

// setText sets every free-text element of it, as a plain string or a
// []string, to prefix followed by its value (or by "值" where empty). The
// code-like elements that Check or the importer validate by shape are left
// alone, as are the step department fields export does not carry. It
// returns the paths it set.
func setText(it *Item, prefix string) []string {
	skip := map[string]bool{
		"BasicCode": true, "Code": true, "Type": true, "Region": true, "DeptID": true, "DeptUSCC": true,
		"Scope": true, "CrossProvince": true, "Fee.OnlinePay": true, "Form.Key": true, "Form.Type": true,
		"Steps.DeptID": true, "Steps.DeptName": true, "Steps.DeptUSCC": true, "Steps.Role": true,
	}
	var set []string
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch {
		case v.Type() == reflect.TypeFor[string]():
			if skip[path] {
				return
			}
			s := v.String()
			if s == "" {
				s = "值"
			}
			v.SetString(prefix + s)
			set = append(set, path)
		case v.Type() == reflect.TypeFor[[]string]():
			if skip[path] {
				return
			}
			for i := range v.Len() {
				walk(v.Index(i), path)
			}
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				name := v.Type().Field(i).Name
				if path != "" {
					name = path + "." + name
				}
				walk(v.Field(i), name)
			}
		case v.Kind() == reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i), path)
			}
		}
	}
	walk(reflect.ValueOf(it).Elem(), "")
	return set
}

// TestRoundTripFormulaValues exports items whose every free-text element
// starts with a formula character (or an apostrophe and one) and imports
// them back unchanged, from CSV and from .xlsx.
func TestRoundTripFormulaValues(t *testing.T) {
	base := cloneItem(demoItems(t)[0])
	// Every list element has an entry, every entry every text part.
	base.LegalBasis[0] = LegalBasis{Name: "法规", DocNo: "文号", Article: "第一条", Content: "条文", Issuer: "机关", Effective: "2020-01-01"}
	base.Special = []Special{{Name: "公示", Limit: TimeLimit{Days: 5, Unit: Workday, Note: "说明"}}}
	base.LegalLimit.Note, base.PromisedLimit.Note = "说明", "说明"
	base.Materials[0].Paper, base.Materials[0].Notes, base.Materials[0].BlankForm, base.Materials[0].Sample = "A4", "须知", "空表", "样表"
	base.Form = []FormField{{Key: "reason", Label: "原因", Type: FieldChoice, Options: []string{"甲", "乙"}, Hint: "提示"}}
	base.Steps[0].Group, base.Steps[0].Description = "分组", "说明"
	base.Results[0].Validity, base.Results[0].Sample = "长期", "样本"
	base.Fee = Fee{Charged: true, Basis: "依据", Items: "工本费", Standard: "10元", OnlinePay: "yes"}
	base.Depth.Level, base.Visits, base.VisitReason = 3, 1, "核验"
	base.Contact = Contact{Location: "地点", Hours: "时间", Phone: "电话", Complaint: "投诉", FAQ: "问答"}
	base.Themes, base.Keywords, base.Aliases = []string{"主题"}, []string{"关键词"}, []string{"别名"}
	if err := base.Check(DefaultTypes); err != nil && len(FieldErrors(2, err, "dept_id")) > 0 {
		t.Fatalf("base item: %v", FieldErrors(2, err, "dept_id"))
	}
	for _, prefix := range []string{"=", "+", "-", "@", "'=", "''-", "'"} {
		it := cloneItem(base)
		paths := setText(&it, prefix)
		if len(paths) < 40 {
			t.Fatalf("setText set only %d text elements: %v", len(paths), paths)
		}
		want := withoutDept([]Item{it})
		for _, tc := range []struct {
			format string
			data   []byte
		}{
			{"csv", exportCSV(t, []Item{it})},
			{"xlsx", exportXLSX(t, []Item{it})},
		} {
			t.Run(tc.format+" "+prefix, func(t *testing.T) {
				sheet, err := Parse("items."+tc.format, tc.data, DefaultTypes)
				if err != nil {
					t.Fatal(err)
				}
				if len(sheet.Rows) != 1 || len(sheet.Rows[0].Errors) > 0 {
					t.Fatalf("rows = %+v", sheet.Rows)
				}
				if diff := cmp.Diff(want[0], sheet.Rows[0].Item, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("round trip mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestImportRemovesApostrophe reads cells typed by hand (or re-saved by
// Excel from an exported CSV).
func TestImportRemovesApostrophe(t *testing.T) {
	for _, tc := range []struct {
		cell, want string
	}{
		{"'=出生医学证明", "=出生医学证明"},
		{"'-出生医学证明", "-出生医学证明"},
		{"'+出生医学证明", "+出生医学证明"},
		{"'@出生医学证明", "@出生医学证明"},
		{"''=出生医学证明", "'=出生医学证明"},
		{"'出生医学证明", "'出生医学证明"},
		{"出生'=医学证明", "出生'=医学证明"},
	} {
		t.Run(tc.cell, func(t *testing.T) {
			row := goodRow(t)
			row["事项名称"] = tc.cell
			row["关键词"] = tc.cell + "\n出生"
			cells := make([]string, len(Headers()))
			for i, h := range Headers() {
				cells[i] = row[h]
			}
			for _, f := range []struct {
				name string
				data []byte
			}{
				{"a.csv", csvOf(Headers(), row)},
				{"a.xlsx", xlsxWith(t, XLSXSheet, [][]string{Headers(), cells})},
			} {
				sheet, err := Parse(f.name, f.data, DefaultTypes)
				if err != nil {
					t.Fatal(err)
				}
				if len(sheet.Rows) != 1 || len(sheet.Rows[0].Errors) > 0 {
					t.Fatalf("%s: rows = %+v", f.name, sheet.Rows)
				}
				got := sheet.Rows[0].Item
				if got.Name != tc.want || !slices.Equal(got.Keywords, []string{tc.want, "出生"}) {
					t.Errorf("%s: name %q, keywords %q; want %q", f.name, got.Name, got.Keywords, tc.want)
				}
			}
		})
	}
}

func TestRowErrorsCSV(t *testing.T) {
	var b bytes.Buffer
	err := writeRowErrors(&b, []RowError{
		{Row: 0, Reason: `=HYPERLINK("http://x","点我")`},
		{Row: 3, Column: "事项名称", Reason: "请填写事项名称"},
		{Row: 4, Column: "=列", Reason: "@SUM(A1)"},
		{Row: 5, Column: "事项类型", Reason: "+无法识别"},
		{Row: 6, Column: "事项类型", Reason: "-无法识别"},
		{Row: 7, Column: "事项类型", Reason: "\t无法识别"},
		{Row: 8, Column: "事项类型", Reason: "\r\n=无法识别"},
	})
	if err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	if !bytes.HasPrefix(data, []byte("\xEF\xBB\xBF行号,列,原因\r\n")) {
		t.Fatalf("bad rows CSV starts %q", data[:min(len(data), 40)])
	}
	for _, want := range []string{`文件,,"'=HYPERLINK(""http://x"",""点我"")"`, "3,事项名称,请填写事项名称\r\n", "4,'=列,'@SUM(A1)\r\n", "5,事项类型,'+无法识别\r\n", "6,事项类型,'-无法识别\r\n", "7,事项类型,'\t无法识别\r\n", "8,事项类型,\"'\r\n=无法识别\"\r\n"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("bad rows CSV lacks %q:\n%s", want, data)
		}
	}
	// As written: no quoted cell starts with a CR or LF (a value starting
	// with a line feed is written CR LF).
	for _, bad := range []string{",\"\r", ",\"\n", "\n\"\r", "\n\"\n"} {
		if bytes.Contains(data, []byte(bad)) {
			t.Errorf("a cell as written starts with a line break (%q):\n%q", bad, data)
		}
	}
	checkDefused(t, data)
}

// checkDefused fails t for a cell of CSV data (after its BOM) that starts
// with a formula character.
func checkDefused(t testing.TB, data []byte) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		for _, c := range rec {
			if c != "" && strings.ContainsAny(c[:1], formulaStarts) {
				t.Errorf("CSV cell %q starts with a formula character", c)
			}
		}
	}
}

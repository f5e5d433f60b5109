package catalog

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/idcode"
)

var formNow = time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)

// testID returns a valid 公民身份号码 born on birth (YYYYMMDD).
func testID(t testing.TB, birth string) string {
	t.Helper()
	c, err := idcode.IDCheckChar("150102" + birth + "123")
	if err != nil {
		t.Fatal(err)
	}
	return "150102" + birth + "123" + string(c)
}

func testUSCC(t testing.TB) string {
	t.Helper()
	u, err := idcode.NewUSCC('9', '1', "150102", "MA0XY312")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// birthForm is a valid form with one field of every type.
func birthForm() []FormField {
	return []FormField{
		{Key: "child_name", Label: "新生儿姓名", Type: FieldText, Required: true, Max: 20},
		{Key: "birth_date", Label: "出生日期", Type: FieldDate, Required: true},
		{Key: "gender", Label: "性别", Type: FieldChoice, Required: true, Options: []string{"男", "女"}},
		{Key: "mother_id_number", Label: "母亲身份证号", Type: FieldIDNumber, Required: true},
		{Key: "employer_uscc", Label: "单位信用代码", Type: FieldUSCC},
		{Key: "hukou_region", Label: "户籍地", Type: FieldRegion, Required: true},
		{Key: "address", Label: "联系地址", Type: FieldAddress},
		{Key: "weight", Label: "出生体重（克）", Type: FieldNumber, Max: 9000},
		{Key: "birth_record", Label: "出生证明附件", Type: FieldAttachment},
	}
}

// formItem is a valid demo item (in 新城区) with form as its 办件表单.
func formItem(form []FormField) Item {
	it := cloneItem(baseFormItem)
	it.Form = form
	return it
}

var baseFormItem = demoKinds()[0].place("150000", demoPlace{level: 4, code: "150102", name: "新城区", here: "本区"}, "dept-1")

// checkFormOnly runs Item.Check on a valid item with form and returns the
// problems under "form".
func checkFormOnly(t *testing.T, form []FormField) map[string]string {
	t.Helper()
	it := formItem(form)
	got := map[string]string{}
	if err := it.Check(DefaultTypes); err != nil {
		e, ok := err.(*errs.Error)
		if !ok {
			t.Fatalf("Check: %v", err)
		}
		for k, v := range e.Fields {
			if k == "form" || strings.HasPrefix(k, "form[") {
				got[k] = v
			} else {
				t.Fatalf("Check: unexpected problem %s: %s", k, v)
			}
		}
	}
	return got
}

func TestCheckForm(t *testing.T) {
	field := func(mod func(*FormField)) []FormField {
		f := birthForm()
		mod(&f[2]) // the choice field
		return f
	}
	many := make([]FormField, MaxFormFields+1)
	for i := range many {
		many[i] = FormField{Key: "f" + strings.Repeat("x", i%30) + string(rune('a'+i/30)), Label: "字段", Type: FieldText}
	}
	for _, tc := range []struct {
		name string
		form []FormField
		want map[string]string
	}{
		{"valid", birthForm(), map[string]string{}},
		{"none", nil, map[string]string{}},
		{"spaces trimmed", field(func(f *FormField) { f.Key, f.Label, f.Options = " gender ", " 性别 ", []string{" 男 ", "", "女"} }), map[string]string{}},
		{"no key", field(func(f *FormField) { f.Key = "" }), map[string]string{"form[2].key": "请填写字段标识"}},
		{"key upper case", field(func(f *FormField) { f.Key = "Gender" }), map[string]string{"form[2].key": "字段标识只能由小写字母、数字和下划线组成，以字母开头，不超过40个字符"}},
		{"key with a dash", field(func(f *FormField) { f.Key = "gen-der" }), map[string]string{"form[2].key": "字段标识只能由小写字母、数字和下划线组成，以字母开头，不超过40个字符"}},
		{"key starting with a digit", field(func(f *FormField) { f.Key = "1gender" }), map[string]string{"form[2].key": "字段标识只能由小写字母、数字和下划线组成，以字母开头，不超过40个字符"}},
		{"key in Chinese", field(func(f *FormField) { f.Key = "性别" }), map[string]string{"form[2].key": "字段标识只能由小写字母、数字和下划线组成，以字母开头，不超过40个字符"}},
		{"duplicate key", field(func(f *FormField) { f.Key = "child_name" }), map[string]string{"form[2].key": "字段标识“child_name”与第1个字段重复"}},
		{"no label", field(func(f *FormField) { f.Label = " " }), map[string]string{"form[2].label": "请填写字段名称"}},
		{"label too long", field(func(f *FormField) { f.Label = strings.Repeat("长", 31) }), map[string]string{"form[2].label": "字段名称不能超过30个字"}},
		{"label of 30", field(func(f *FormField) { f.Label = strings.Repeat("长", 30) }), map[string]string{}},
		{"bad type", field(func(f *FormField) { f.Type = "checkbox" }), map[string]string{"form[2].type": "请选择字段类型", "form[2].options": "只有单选字段才能设置选项"}},
		{"choice without options", field(func(f *FormField) { f.Options = []string{" ", ""} }), map[string]string{"form[2].options": "单选字段须列出选项，每行一个"}},
		{"options on text", []FormField{{Key: "a", Label: "甲", Type: FieldText, Options: []string{"x"}}}, map[string]string{"form[0].options": "只有单选字段才能设置选项"}},
		{"duplicate option", field(func(f *FormField) { f.Options = []string{"男", "女", "男"} }), map[string]string{"form[2].options": "选项“男”重复"}},
		{"option with the separator", field(func(f *FormField) { f.Options = []string{"男、女"} }), map[string]string{"form[2].options": "选项中不能含顿号“、”或换行"}},
		{"option too long", field(func(f *FormField) { f.Options = []string{strings.Repeat("选", 51)} }), map[string]string{"form[2].options": "每个选项应为1至50个字"}},
		{"too many options", field(func(f *FormField) {
			f.Options = nil
			for i := range MaxOptions + 1 {
				f.Options = append(f.Options, "选项"+string(rune('A'+i)))
			}
		}), map[string]string{"form[2].options": "选项不能超过50个"}},
		{"max on a choice", field(func(f *FormField) { f.Max = 3 }), map[string]string{"form[2].max": "只有文本、地址和数字字段可以设置上限"}},
		{"text max too big", []FormField{{Key: "a", Label: "甲", Type: FieldText, Max: 5001}}, map[string]string{"form[0].max": "长度上限应在1至5000之间（不填为500）"}},
		{"negative number max", []FormField{{Key: "a", Label: "甲", Type: FieldNumber, Max: -1}}, map[string]string{"form[0].max": "数值上限不能为负数"}},
		{"hint too long", []FormField{{Key: "a", Label: "甲", Type: FieldText, Hint: strings.Repeat("提", 201)}}, map[string]string{"form[0].hint": "填写提示不能超过200个字"}},
		{"too many fields", many, map[string]string{"form": "办件表单字段不能超过50个"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, checkFormOnly(t, tc.form)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckFormNormalises(t *testing.T) {
	it := formItem(nil)
	shared := []string{" 男 ", "女", " "}
	it.Form = []FormField{{Key: " gender ", Label: " 性别 ", Type: " choice ", Options: shared, Hint: " 按出生医学证明填写 "}}
	if err := it.Check(DefaultTypes); err != nil {
		t.Fatal(err)
	}
	want := FormField{Key: "gender", Label: "性别", Type: FieldChoice, Options: []string{"男", "女"}, Hint: "按出生医学证明填写"}
	if diff := cmp.Diff(want, it.Form[0]); diff != "" {
		t.Errorf("normalised (-want +got):\n%s", diff)
	}
	if shared[0] != " 男 " {
		t.Errorf("Check wrote through to the caller's options: %q", shared)
	}
}

func TestValidateForm(t *testing.T) {
	mother := testID(t, "19920304")
	uscc := testUSCC(t)
	key := strings.Repeat("ab", 32)
	valid := map[string]string{"child_name": " 王小宝 ", "birth_date": "2026-03-01", "gender": "男", "mother_id_number": strings.ToLower(mother),
		"employer_uscc": strings.ToLower(uscc), "hukou_region": "150102", "address": "新城区 中山路1号", "weight": "３２００", "birth_record": strings.ToUpper(key)}
	norm := map[string]string{"child_name": "王小宝", "birth_date": "2026-03-01", "gender": "男", "mother_id_number": mother,
		"employer_uscc": uscc, "hukou_region": "150102", "address": "新城区 中山路1号", "weight": "3200", "birth_record": key}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for k, v := range valid {
			m[k] = v
		}
		if v == "\x00delete" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		values   map[string]string
		wantBad  map[string]string
		wantNorm map[string]string // nil: norm without the bad keys
	}{
		{name: "valid", values: valid, wantBad: map[string]string{}, wantNorm: norm},
		{name: "optional left out", values: map[string]string{"child_name": "王小宝", "birth_date": "2026-03-01", "gender": "女", "mother_id_number": mother, "hukou_region": "150102", "address": "  "},
			wantBad:  map[string]string{},
			wantNorm: map[string]string{"child_name": "王小宝", "birth_date": "2026-03-01", "gender": "女", "mother_id_number": mother, "hukou_region": "150102"}},
		{name: "required missing", values: map[string]string{}, wantBad: map[string]string{"child_name": "请填写新生儿姓名", "birth_date": "请填写出生日期",
			"gender": "请选择性别", "mother_id_number": "请填写母亲身份证号", "hukou_region": "请选择户籍地"}, wantNorm: map[string]string{}},
		{name: "unknown key", values: with("father", "x"), wantBad: map[string]string{"_": "表单含有未定义的字段：father（共1个）"}},
		{name: "unknown odd key", values: with("../x", "x"), wantBad: map[string]string{"_": "表单含有未定义的字段：（无效的字段标识）（共1个）"}},
		{name: "text too long", values: with("child_name", strings.Repeat("名", 21)), wantBad: map[string]string{"child_name": "新生儿姓名不能超过20个字"}},
		{name: "text invalid utf-8", values: with("child_name", "王\xff"), wantBad: map[string]string{"child_name": "新生儿姓名含无效字符"}},
		{name: "text control", values: with("child_name", "王\x07宝"), wantBad: map[string]string{"child_name": "新生儿姓名含不能显示的字符"}},
		{name: "address default limit", values: with("address", strings.Repeat("路", 501)), wantBad: map[string]string{"address": "联系地址不能超过500个字"}},
		{name: "address newline", values: with("address", "中山路\n1号"), wantBad: map[string]string{"address": "联系地址含不能显示的字符"}},
		{name: "date not real", values: with("birth_date", "2026-02-30"), wantBad: map[string]string{"birth_date": "出生日期应为有效日期，格式如2026-01-31"}},
		{name: "date format", values: with("birth_date", "2026/03/01"), wantBad: map[string]string{"birth_date": "出生日期应为有效日期，格式如2026-01-31"}},
		{name: "date short", values: with("birth_date", "2026-3-1"), wantBad: map[string]string{"birth_date": "出生日期应为有效日期，格式如2026-01-31"}},
		{name: "date range", values: with("birth_date", "1899-12-31"), wantBad: map[string]string{"birth_date": "出生日期应在1900年至2199年之间"}},
		{name: "choice not an option", values: with("gender", "未知"), wantBad: map[string]string{"gender": "性别只能从给定选项中选择"}},
		{name: "id wrong", values: with("mother_id_number", "150102199203041230"), wantBad: map[string]string{"mother_id_number": "母亲身份证号：公民身份号码校验位错误"}},
		{name: "id born tomorrow", values: with("mother_id_number", testID(t, "20260316")), wantBad: map[string]string{"mother_id_number": "母亲身份证号：公民身份号码出生日期无效：晚于今天"}},
		{name: "uscc wrong", values: with("employer_uscc", uscc[:17]+"0"), wantBad: map[string]string{"employer_uscc": "单位信用代码：" + usccMsg(uscc[:17]+"0")}},
		{name: "region bad", values: with("hukou_region", "15010"), wantBad: map[string]string{"hukou_region": "户籍地：行政区划代码应为6位或9位数字"}},
		{name: "number not integer", values: with("weight", "3.2"), wantBad: map[string]string{"weight": "出生体重（克）应为不带小数点的非负整数"}},
		{name: "number negative", values: with("weight", "-1"), wantBad: map[string]string{"weight": "出生体重（克）应为不带小数点的非负整数"}},
		{name: "number over max", values: with("weight", "9001"), wantBad: map[string]string{"weight": "出生体重（克）不能大于9000"}},
		{name: "number huge", values: with("weight", strings.Repeat("9", 30)), wantBad: map[string]string{"weight": "出生体重（克）应为不带小数点的非负整数"}},
		{name: "attachment not a key", values: with("birth_record", "../../etc/passwd"), wantBad: map[string]string{"birth_record": "出生证明附件的文件标识无效，请重新上传"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, bad := ValidateForm(birthForm(), tc.values, formNow)
			if diff := cmp.Diff(tc.wantBad, bad); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			want := tc.wantNorm
			if want == nil {
				want = map[string]string{}
				for k, v := range norm {
					if _, isBad := bad[k]; !isBad {
						want[k] = v
					}
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func usccMsg(s string) string { return errs.Message(idcode.ValidateUSCC(s)) }

func TestValidateFormDefaultNumberMax(t *testing.T) {
	f := []FormField{{Key: "n", Label: "数量", Type: FieldNumber}}
	if _, bad := ValidateForm(f, map[string]string{"n": "999999999999"}, formNow); len(bad) != 0 {
		t.Errorf("12 digits refused: %v", bad)
	}
	if _, bad := ValidateForm(f, map[string]string{"n": "1000000000000"}, formNow); bad["n"] != "数量不能大于999999999999" {
		t.Errorf("13 digits: %v", bad)
	}
}

// TestParseItemFormForm: the editor's 办件表单 rows, as edit.html posts them.
func TestParseItemFormForm(t *testing.T) {
	f := ParseItemForm(url.Values{
		"form[0].key": {"child_name"}, "form[0].label": {"新生儿姓名"}, "form[0].type": {"text"}, "form[0].required": {"yes"}, "form[0].max": {"20"},
		"form[1].key": {"gender"}, "form[1].label": {"性别"}, "form[1].type": {"choice"}, "form[1].options": {"男\r\n\r\n女\n"}, "form[1].hint": {"按出生医学证明"},
		"form[2].key": {""}, "form[2].label": {""}, "form[2].type": {"text"}, "form[2].required": {"yes"}, "form[2].max": {"0"}, // blank row
		"form[3].key": {"x"}, "form[3].label": {"删"}, "form[3].remove": {"1"},
		"form[4].key": {"n"}, "form[4].label": {"数"}, "form[4].type": {"number"}, "form[4].max": {"十"},
	})
	want := []FormField{
		{Key: "child_name", Label: "新生儿姓名", Type: FieldText, Required: true, Max: 20},
		{Key: "gender", Label: "性别", Type: FieldChoice, Options: []string{"男", "女"}, Hint: "按出生医学证明"},
		{Key: "n", Label: "数", Type: FieldNumber, Max: -1},
	}
	if diff := cmp.Diff(want, f.Item.Form); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
	if f.Errors["form[4].max"] != "上限应为整数" {
		t.Errorf("errors = %v", f.Errors)
	}
}

func TestFormCell(t *testing.T) {
	form := birthForm()
	form[0].Hint = "与出生医学证明一致｜含竖线\n和换行"
	cell := formatForm(form)
	if !strings.HasPrefix(cell, "新生儿姓名｜child_name｜文本｜必填｜｜20｜与出生医学证明一致\\｜含竖线\\n和换行\n") || !strings.Contains(cell, "性别｜gender｜单选｜必填｜男、女\n") {
		t.Errorf("cell:\n%s", cell)
	}
	got, bad := parseForm(cell)
	if bad != "" {
		t.Fatal(bad)
	}
	if diff := cmp.Diff(form, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// Codes and a few other spellings are read too.
	got, bad = parseForm("性别｜gender｜choice｜是｜男 、女\n身份证｜id｜身份证号\n")
	want := []FormField{{Label: "性别", Key: "gender", Type: FieldChoice, Required: true, Options: []string{"男", "女"}}, {Label: "身份证", Key: "id", Type: FieldIDNumber}}
	if bad != "" || !cmp.Equal(want, got, cmpopts.EquateEmpty()) {
		t.Errorf("parseForm = %v, %q", got, bad)
	}
	for cell, want := range map[string]string{
		"甲｜a｜复选框":        "第1项：字段类型应为文本、数字、日期、单选、公民身份号码、统一社会信用代码、行政区划、地址或附件",
		"甲｜a｜文本｜也许":      "第1项：是否必填应填“必填”或“选填”",
		"甲｜a｜文本｜必填｜｜-1":  "第1项：上限应为非负整数",
		"甲｜a｜文本｜｜｜｜｜多余的": "第1项有8个部分，最多7个（字段名称｜字段标识｜类型｜是否必填｜选项｜上限｜填写提示）",
	} {
		if _, bad := parseForm(cell); bad != want {
			t.Errorf("parseForm(%q) = %q, want %q", cell, bad, want)
		}
	}
}

// TestDemoForms: every demo item that can be applied for online has a
// form, and every named demo form belongs to a demo item.
func TestDemoForms(t *testing.T) {
	var names []string
	for _, k := range demoKinds() {
		names = append(names, k.item.Name)
		if k.item.OnlineApplication() && len(k.item.Form) == 0 {
			t.Errorf("%s is online but has no form", k.item.Name)
		}
	}
	for name := range demoForms() {
		if !slices.Contains(names, name) {
			t.Errorf("demoForms names %q, which is no demo item", name)
		}
	}
	var birth []FormField
	for _, k := range demoKinds() {
		if k.item.Name == "出生医学证明首次签发" {
			birth = k.item.Form
		}
	}
	var keys []string
	for _, f := range birth {
		keys = append(keys, f.Key+":"+f.Type)
	}
	want := []string{"child_name:text", "birth_date:date", "gender:choice", "mother_id_number:id_number", "father_id_number:id_number",
		"hukou_region:region", "address:address", "birth_record:attachment"}
	if !slices.Equal(keys, want) {
		t.Errorf("出生医学证明首次签发 form = %v, want %v", keys, want)
	}
}

// FuzzValidateForm: any definition and any submission are judged without
// panic; every field gets at most one of a value and a message; accepted
// values are valid UTF-8 and validate again to themselves.
func FuzzValidateForm(f *testing.F) {
	f.Add("text", 0, false, "", "k", "王小宝", "x", "")
	f.Add("number", 100, true, "", "k", "１２", "k", "")
	f.Add("choice", 0, true, "男、女", "k", "男", "", "")
	f.Add("id_number", 0, true, "", "k", "11010519491231002x", "", "")
	f.Add("uscc", 0, false, "", "k", "91350100M000100Y43", "", "")
	f.Add("region", 0, true, "", "k", "150102000", "", "")
	f.Add("date", 0, true, "", "k", "2024-02-29", "", "")
	f.Add("attachment", 0, true, "", "k", strings.Repeat("A", 64), "", "")
	f.Add("address", 3, false, "", "k", "一二三四", "k2", "v2")
	f.Fuzz(func(t *testing.T, typ string, max int, required bool, opts, key, value, key2, value2 string) {
		fields := []FormField{{Key: "k", Label: "字段", Type: typ, Required: required, Max: max, Options: strings.Split(opts, OptionSep)},
			{Key: "k2", Label: "字段二", Type: FieldText}}
		values := map[string]string{key: value, key2: value2}
		got, bad := ValidateForm(fields, values, formNow)
		for k, v := range got {
			if _, both := bad[k]; both {
				t.Fatalf("%s has a value and an error", k)
			}
			if !utf8.ValidString(v) {
				t.Fatalf("%s = %q is not UTF-8", k, v)
			}
		}
		for k := range bad {
			if k != "_" && k != "k" && k != "k2" {
				t.Fatalf("error on %q", k)
			}
		}
		if len(bad) == 0 {
			again, bad2 := ValidateForm(fields, got, formNow)
			if len(bad2) != 0 || !cmp.Equal(got, again) {
				t.Fatalf("normalised %v revalidates to %v, %v", got, again, bad2)
			}
		}
		// The definition is checked without panic too.
		it := formItem(fields)
		_ = it.Check(DefaultTypes)
	})
}

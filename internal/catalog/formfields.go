package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"yiwang/internal/org"
	"yiwang/internal/platform/blob"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/idcode"
)

// FormField is one field (办件表单字段) of an item's online application
// form: what an applicant fills in besides the materials. The item's
// definition is checked by Item.Check; a submission by ValidateForm.
type FormField struct {
	Key      string   `json:"key"`   // a-z, 0-9 and _, starting with a letter; unique in the item
	Label    string   `json:"label"` // zh-CN, 1–30 characters
	Type     string   `json:"type"`  // one of FieldTypes
	Required bool     `json:"required"`
	Options  []string `json:"options,omitempty"` // for choice
	Max      int      `json:"max,omitempty"`     // max length (text, address) or max value (number); 0: the default
	Hint     string   `json:"hint,omitempty"`
}

// The field types.
const (
	FieldText       = "text"       // 文本
	FieldNumber     = "number"     // 数字: a non-negative integer
	FieldDate       = "date"       // 日期 YYYY-MM-DD
	FieldChoice     = "choice"     // 单选, one of Options
	FieldIDNumber   = "id_number"  // 公民身份号码
	FieldUSCC       = "uscc"       // 统一社会信用代码
	FieldRegion     = "region"     // 行政区划代码
	FieldAddress    = "address"    // 地址, one line
	FieldAttachment = "attachment" // 附件: a blob key
)

// FieldTypes names the field types.
var FieldTypes = map[string]string{
	FieldText: "文本", FieldNumber: "数字", FieldDate: "日期", FieldChoice: "单选", FieldIDNumber: "公民身份号码",
	FieldUSCC: "统一社会信用代码", FieldRegion: "行政区划", FieldAddress: "地址", FieldAttachment: "附件",
}

// Limits of form definitions and submissions.
const (
	MaxFormFields  = 50
	MaxFieldLabel  = 30
	MaxFieldKey    = 40
	MaxFieldHint   = 200
	MaxOptions     = 50
	MaxOptionChars = 50
	// DefaultTextMax is the length limit of a text or address field whose
	// Max is 0; MaxTextMax is the most a definition may allow.
	DefaultTextMax = 500
	MaxTextMax     = 5000
	// DefaultNumberMax bounds a number field whose Max is 0 (12 digits).
	DefaultNumberMax = 999_999_999_999
)

// OptionSep separates the options of a choice field in import/export
// cells, so an option may not contain it.
const OptionSep = "、"

// TypeLabel is the field type's zh-CN name, for templates.
func (f FormField) TypeLabel() string {
	if l, ok := FieldTypes[f.Type]; ok {
		return l
	}
	return f.Type
}

// validFieldKey reports whether k is 1–MaxFieldKey characters of a-z, 0-9
// and _, starting with a letter.
func validFieldKey(k string) bool {
	if len(k) == 0 || len(k) > MaxFieldKey || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkForm normalises the form definition in place (spaces trimmed,
// blank options dropped) and reports its problems on "form" and
// "form[i].<sub-field>".
func checkForm(p problems, fields []FormField) {
	if len(fields) > MaxFormFields {
		p["form"] = fmt.Sprintf("办件表单字段不能超过%d个", MaxFormFields)
	}
	seen := map[string]int{}
	for i := range fields {
		f := &fields[i]
		f.Key, f.Label, f.Type, f.Hint = strings.TrimSpace(f.Key), strings.TrimSpace(f.Label), strings.TrimSpace(f.Type), strings.TrimSpace(f.Hint)
		opts := f.Options[:0:0]
		for _, o := range f.Options {
			if o = strings.TrimSpace(o); o != "" {
				opts = append(opts, o)
			}
		}
		f.Options = opts
		if len(f.Options) == 0 {
			f.Options = nil
		}

		key := fmt.Sprintf("form[%d]", i)
		switch j, dup := seen[f.Key]; {
		case f.Key == "":
			p[key+".key"] = "请填写字段标识"
		case !validFieldKey(f.Key):
			p[key+".key"] = fmt.Sprintf("字段标识只能由小写字母、数字和下划线组成，以字母开头，不超过%d个字符", MaxFieldKey)
		case dup:
			p[key+".key"] = fmt.Sprintf("字段标识“%s”与第%d个字段重复", f.Key, j+1)
		default:
			seen[f.Key] = i
		}
		p.text(key+".label", "字段名称", f.Label, 1, MaxFieldLabel)
		p.text(key+".hint", "填写提示", f.Hint, 0, MaxFieldHint)
		if _, ok := FieldTypes[f.Type]; !ok {
			p[key+".type"] = "请选择字段类型"
		}
		switch {
		case f.Type == FieldChoice && len(f.Options) == 0:
			p[key+".options"] = "单选字段须列出选项，每行一个"
		case f.Type != FieldChoice && len(f.Options) > 0:
			p[key+".options"] = "只有单选字段才能设置选项"
		case len(f.Options) > MaxOptions:
			p[key+".options"] = fmt.Sprintf("选项不能超过%d个", MaxOptions)
		}
		for j, o := range f.Options {
			switch {
			case !utf8.ValidString(o) || utf8.RuneCountInString(o) > MaxOptionChars:
				p[key+".options"] = fmt.Sprintf("每个选项应为1至%d个字", MaxOptionChars)
			case strings.Contains(o, OptionSep) || strings.ContainsAny(o, "\r\n"):
				p[key+".options"] = "选项中不能含顿号“、”或换行"
			case slices.Contains(f.Options[:j], o):
				p[key+".options"] = "选项“" + clip(o) + "”重复"
			}
		}
		switch f.Type {
		case FieldText, FieldAddress:
			if f.Max < 0 || f.Max > MaxTextMax {
				p[key+".max"] = fmt.Sprintf("长度上限应在1至%d之间（不填为%d）", MaxTextMax, DefaultTextMax)
			}
		case FieldNumber:
			if f.Max < 0 {
				p[key+".max"] = "数值上限不能为负数"
			}
		default:
			if f.Max != 0 {
				p[key+".max"] = "只有文本、地址和数字字段可以设置上限"
			}
		}
	}
}

// ValidateForm checks a submission of the form fields: values maps field
// keys to what the applicant typed. It returns the normalised values of the
// fields filled in correctly (spaces trimmed; full-width digits and letters
// made half-width in codes, numbers and dates; ID numbers and credit codes
// in upper case; blob keys in lower case; empty optional fields left out)
// and a zh-CN message per field key for the others. A key in values that no
// field defines is refused under "_". now is the date ID numbers' birth
// dates may not be after.
//
// What ValidateForm cannot know is left to the caller: that a region code
// names a region that exists, and that an attachment's blob exists and was
// uploaded by this applicant.
func ValidateForm(fields []FormField, values map[string]string, now time.Time) (map[string]string, map[string]string) {
	out, bad := map[string]string{}, map[string]string{}
	var unknownKeys []string
	for k := range values {
		if !slices.ContainsFunc(fields, func(f FormField) bool { return f.Key == k }) {
			unknownKeys = append(unknownKeys, k)
		}
	}
	if len(unknownKeys) > 0 {
		slices.Sort(unknownKeys)
		name := unknownKeys[0]
		if !validFieldKey(name) {
			name = "（无效的字段标识）"
		}
		bad["_"] = fmt.Sprintf("表单含有未定义的字段：%s（共%d个）", name, len(unknownKeys))
	}
	for _, f := range fields {
		if _, done := out[f.Key]; done {
			continue // a duplicate key in an unchecked definition
		}
		if _, done := bad[f.Key]; done {
			continue
		}
		v, msg := validateField(f, values[f.Key], now)
		switch {
		case msg != "":
			bad[f.Key] = msg
		case v != "":
			out[f.Key] = v
		}
	}
	return out, bad
}

// validateField returns the normalised value of v for f, or why it is
// refused. An empty optional value is "" without a message.
func validateField(f FormField, v string, now time.Time) (string, string) {
	if !utf8.ValidString(v) {
		return "", f.Label + "含无效字符"
	}
	v = strings.TrimSpace(v)
	if v == "" {
		if !f.Required {
			return "", ""
		}
		switch f.Type {
		case FieldChoice, FieldRegion:
			return "", "请选择" + f.Label
		case FieldAttachment:
			return "", "请上传" + f.Label
		}
		return "", "请填写" + f.Label
	}
	// Codes, numbers and dates are ASCII; typed with a Chinese input
	// method they often come full-width (１２３, －).
	narrow := func() string { return width.Narrow.String(v) }
	tooLong := func(limit int) string {
		if utf8.RuneCountInString(v) > limit {
			return fmt.Sprintf("%s不能超过%d个字", f.Label, limit)
		}
		return ""
	}
	switch f.Type {
	case FieldText, FieldAddress:
		limit := f.Max
		if limit <= 0 {
			limit = DefaultTextMax
		}
		if msg := tooLong(limit); msg != "" {
			return "", msg
		}
		v = strings.ReplaceAll(v, "\r\n", "\n")
		for _, r := range v {
			if unicode.IsControl(r) && !(f.Type == FieldText && (r == '\n' || r == '\t')) {
				return "", f.Label + "含不能显示的字符"
			}
		}
		return v, ""
	case FieldNumber:
		n := narrow()
		limit := int64(f.Max)
		if limit <= 0 {
			limit = DefaultNumberMax
		}
		if len(n) > 18 || strings.TrimLeft(n, "0123456789") != "" {
			return "", f.Label + "应为不带小数点的非负整数"
		}
		x, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return "", f.Label + "应为不带小数点的非负整数"
		}
		if x > limit {
			return "", fmt.Sprintf("%s不能大于%d", f.Label, limit)
		}
		return strconv.FormatInt(x, 10), ""
	case FieldDate:
		d, err := time.Parse(time.DateOnly, narrow())
		if err != nil {
			return "", f.Label + "应为有效日期，格式如2026-01-31"
		}
		if d.Year() < 1900 || d.Year() > 2199 {
			return "", f.Label + "应在1900年至2199年之间"
		}
		return d.Format(time.DateOnly), ""
	case FieldChoice:
		if !slices.Contains(f.Options, v) {
			return "", f.Label + "只能从给定选项中选择"
		}
		return v, ""
	case FieldIDNumber:
		n := strings.ToUpper(narrow())
		if _, err := idcode.ParseIDNumber(n, now); err != nil {
			return "", f.Label + "：" + errs.Message(err)
		}
		return n, ""
	case FieldUSCC:
		n := strings.ToUpper(narrow())
		if err := idcode.ValidateUSCC(n); err != nil {
			return "", f.Label + "：" + errs.Message(err)
		}
		return n, ""
	case FieldRegion:
		norm, _, _, err := org.ParseRegionCode(narrow())
		if err != nil {
			return "", f.Label + "：" + errs.Message(err)
		}
		return norm, ""
	case FieldAttachment:
		key, ok := blob.NormalizeSHA256(v)
		if !ok {
			return "", f.Label + "的文件标识无效，请重新上传"
		}
		return key, ""
	}
	return "", f.Label + "的字段类型无效"
}

// formFieldFormat names the sub-fields of a 办件表单 cell entry.
const formFieldFormat = "字段名称｜字段标识｜类型｜是否必填｜选项｜上限｜填写提示"

var fieldTypeTable = table(FieldTypes, map[string]string{
	FieldText: FieldText, FieldNumber: FieldNumber, FieldDate: FieldDate, FieldChoice: FieldChoice, FieldIDNumber: FieldIDNumber,
	FieldUSCC: FieldUSCC, FieldRegion: FieldRegion, FieldAddress: FieldAddress, FieldAttachment: FieldAttachment,
	"身份证号": FieldIDNumber, "身份证号码": FieldIDNumber, "信用代码": FieldUSCC, "地区": FieldRegion, "选择": FieldChoice,
})

// formatForm writes the 办件表单 cell: one field a line (see transfer.go).
func formatForm(fields []FormField) string {
	return joinEntries(fields, func(f FormField) []string {
		req := "选填"
		if f.Required {
			req = "必填"
		}
		max := ""
		if f.Max != 0 {
			max = strconv.Itoa(f.Max)
		}
		return []string{f.Label, f.Key, labelOr(FieldTypes, f.Type), req, strings.Join(f.Options, OptionSep), max, f.Hint}
	})
}

// parseForm reads the 办件表单 cell; Item.Check judges the fields read.
func parseForm(v string) ([]FormField, string) {
	return parseEntries(v, 7, formFieldFormat, func(s []string) (FormField, string) {
		f := FormField{Label: s[0], Key: strings.TrimSpace(s[1]), Hint: s[6]}
		var ok bool
		if f.Type, ok = parseLabel(fieldTypeTable, s[2]); !ok {
			return f, "字段类型应为文本、数字、日期、单选、公民身份号码、统一社会信用代码、行政区划、地址或附件"
		}
		switch strings.TrimSpace(s[3]) {
		case "必填", "是":
			f.Required = true
		case "选填", "否", "":
		default:
			return f, "是否必填应填“必填”或“选填”"
		}
		for _, o := range strings.Split(s[4], OptionSep) {
			if o = strings.TrimSpace(o); o != "" {
				f.Options = append(f.Options, o)
			}
		}
		if m := strings.TrimSpace(s[5]); m != "" {
			n, err := strconv.Atoi(m)
			if err != nil || n < 0 || n > DefaultNumberMax {
				return f, "上限应为非负整数"
			}
			f.Max = n
		}
		return f, ""
	})
}

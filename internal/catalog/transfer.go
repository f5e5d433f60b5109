package catalog

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"yiwang/internal/platform/errs"
)

// The spreadsheet form of the catalogue (导入导出): one row per item, one
// column per element, headed by the element's Chinese name. Values are
// the zh-CN labels people read (行政许可, 自然人, 个工作日, 是/否), never
// internal codes. A list element holds one entry per line; an entry's
// sub-fields are separated by the full-width bar ｜ (e.g. 申请材料
// "居民身份证｜证件证书证明｜申请人自备｜必要｜纸质｜1｜0"). Inside an entry, a
// backslash escapes a line break (\n), a bar (\｜) and itself (\\), so
// every item survives export and import unchanged. The department is named
// by its credit code; its internal id is not exported. A CSV cell a
// spreadsheet would run as a formula (CSV injection) starts with an
// apostrophe, which import takes away again (defuse, undefuse).

// Limits on import files. The HTTP body limit (8 MiB) is the binding one
// for uploads; MaxImportRows keeps the import's single transaction within
// portable-SQL rule 9 (batches of at most 10k rows).
const (
	MaxImportBytes = 8 << 20
	MaxImportRows  = 10000
	MaxCellChars   = 32767 // Excel's own limit per cell
	maxColumns     = 200
)

// Sep separates the sub-fields of a list entry.
const Sep = "｜"

// XLSXSheet is the worksheet export writes and import prefers.
const XLSXSheet = "事项清单"

// RowError is one problem of an import file: its spreadsheet row (the
// header is row 1; 0 for the file as a whole), the column's header and
// the reason, in zh-CN.
type RowError struct {
	Row    int    `json:"row"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

// ParsedRow is one data row of an import file and the item read from it.
// The item is usable only when Errors is empty; DeptID is never set (the
// importer resolves the department from the credit code).
type ParsedRow struct {
	Row    int
	Item   Item
	Errors []RowError
}

// Sheet is a parsed import file.
type Sheet struct {
	Rows []ParsedRow
	// Notice tells the user about a conversion made while reading (a GBK
	// CSV converted to UTF-8); empty when none was needed.
	Notice string
}

// BadRows counts the rows with errors.
func (s *Sheet) BadRows() int {
	n := 0
	for _, r := range s.Rows {
		if len(r.Errors) > 0 {
			n++
		}
	}
	return n
}

// column is one element's column: its header, whether an import must have
// it, the Check field keys it answers for, and how to write and read it.
type column struct {
	header   string
	required bool
	keys     []string // Check's field keys (or their prefix before "[i]")
	get      func(it *Item) string
	set      func(it *Item, v string, types []ItemType) string // returns the reason a value is refused, or ""
}

// columns lists every element in export order.
var columns = []column{
	{header: "基本编码", required: true, keys: []string{"basic_code"},
		get: func(it *Item) string { return it.BasicCode },
		set: func(it *Item, v string, _ []ItemType) string { it.BasicCode = v; return "" }},
	{header: "实施编码", keys: []string{"code"},
		get: func(it *Item) string { return it.Code },
		set: func(it *Item, v string, _ []ItemType) string { it.Code = strings.TrimSpace(v); return "" }},
	{header: "事项名称", required: true, keys: []string{"name"},
		get: func(it *Item) string { return it.Name },
		set: func(it *Item, v string, _ []ItemType) string { it.Name = v; return "" }},
	{header: "事项类型", required: true, keys: []string{"type"},
		get: func(it *Item) string { return it.Type }, // replaced by the type's name in exportRow
		set: func(it *Item, v string, types []ItemType) string {
			v = strings.TrimSpace(v)
			for _, t := range types {
				if v == t.Name || v == t.Code {
					it.Type = t.Code
					return ""
				}
			}
			if v == "" {
				return "请填写事项类型"
			}
			return "无法识别的事项类型“" + clip(v) + "”"
		}},
	{header: "行使层级", required: true, keys: []string{"level"},
		get: func(it *Item) string { return labelOr(Levels, it.Level) },
		set: func(it *Item, v string, _ []ItemType) string {
			n, ok := parseLabel(levelTable, v)
			if !ok {
				return "行使层级应为国家级、省级、市级、县级、乡级或村级"
			}
			it.Level = n
			return ""
		}},
	{header: "实施地区", required: true, keys: []string{"region"},
		get: func(it *Item) string { return it.Region },
		set: func(it *Item, v string, _ []ItemType) string { it.Region = v; return "" }},
	{header: "实施主体", keys: []string{"dept_name"},
		get: func(it *Item) string { return it.DeptName },
		set: func(it *Item, v string, _ []ItemType) string { it.DeptName = strings.TrimSpace(v); return "" }},
	{header: "实施主体统一社会信用代码", required: true, keys: []string{"dept_uscc", "dept_id"},
		get: func(it *Item) string { return it.DeptUSCC },
		set: func(it *Item, v string, _ []ItemType) string {
			it.DeptUSCC = strings.ToUpper(strings.TrimSpace(v))
			if it.DeptUSCC == "" {
				return "请填写实施主体的统一社会信用代码"
			}
			return ""
		}},
	{header: "服务对象", required: true, keys: []string{"audiences"},
		get: func(it *Item) string { return joinLabels(AudienceLabels, it.Audiences) },
		set: func(it *Item, v string, _ []ItemType) string {
			var bad string
			it.Audiences, bad = parseLabels(audienceTable, v)
			return unknown("服务对象", bad)
		}},
	{header: "设定依据", keys: []string{"legal_basis"},
		get: func(it *Item) string {
			return joinEntries(it.LegalBasis, func(b LegalBasis) []string {
				return []string{b.Name, b.DocNo, b.Article, b.Content, b.Issuer, b.Effective}
			})
		},
		set: func(it *Item, v string, _ []ItemType) string {
			var err string
			it.LegalBasis, err = parseEntries(v, 6, "法律法规名称｜文号｜条款号｜条款内容｜颁布机关｜实施日期", func(f []string) (LegalBasis, string) {
				return LegalBasis{Name: f[0], DocNo: f[1], Article: f[2], Content: f[3], Issuer: f[4], Effective: f[5]}, ""
			})
			return err
		}},
	{header: "受理条件", keys: []string{"conditions"},
		get: func(it *Item) string { return it.Conditions },
		set: func(it *Item, v string, _ []ItemType) string { it.Conditions = v; return "" }},
	{header: "法定办结时限", keys: []string{"legal_limit"},
		get: func(it *Item) string { return formatLimit(it.LegalLimit) },
		set: func(it *Item, v string, _ []ItemType) string {
			var err string
			it.LegalLimit, err = parseLimit(v)
			return err
		}},
	{header: "承诺办结时限", keys: []string{"promised_limit"},
		get: func(it *Item) string { return formatLimit(it.PromisedLimit) },
		set: func(it *Item, v string, _ []ItemType) string {
			var err string
			it.PromisedLimit, err = parseLimit(v)
			return err
		}},
	{header: "办件类型", required: true, keys: []string{"kind"},
		get: func(it *Item) string { return labelOr(KindLabels, it.Kind) },
		set: func(it *Item, v string, _ []ItemType) string {
			k, ok := parseLabel(kindTable, v)
			if !ok {
				return "办件类型应为即办件或承诺件"
			}
			it.Kind = k
			return ""
		}},
	{header: "特别程序", keys: []string{"special"},
		get: func(it *Item) string {
			return joinEntries(it.Special, func(s Special) []string {
				return []string{s.Name, formatLimit(TimeLimit{Days: s.Limit.Days, Unit: s.Limit.Unit}), s.Limit.Note}
			})
		},
		set: func(it *Item, v string, _ []ItemType) string {
			var err string
			it.Special, err = parseEntries(v, 3, "名称｜时限｜说明", func(f []string) (Special, string) {
				l, bad := parseLimit(f[1])
				l.Note = f[2]
				return Special{Name: f[0], Limit: l}, bad
			})
			return err
		}},
	{header: "申请材料", keys: []string{"materials"},
		get: func(it *Item) string {
			return joinEntries(it.Materials, func(m Material) []string {
				return []string{m.Name, labelOr(MaterialTypes, m.Type), labelOr(MaterialSources, m.Source), labelOr(MaterialNecessity, m.Necessity),
					labelOr(MaterialForms, m.Form), strconv.Itoa(m.Originals), strconv.Itoa(m.Copies), m.Paper, m.Notes, m.BlankForm, m.Sample}
			})
		},
		set: func(it *Item, v string, _ []ItemType) string {
			var err string
			it.Materials, err = parseEntries(v, 11, "名称｜材料类型｜来源渠道｜是否必要｜提交形式｜原件份数｜复印件份数｜纸张规格｜填报须知｜空表｜样表", func(f []string) (Material, string) {
				m := Material{Name: f[0], Paper: f[7], Notes: f[8], BlankForm: f[9], Sample: f[10]}
				var ok bool
				if m.Type, ok = parseLabel(mTypeTable, f[1]); !ok {
					return m, "材料类型应为证件证书证明、申请表格文书或其他"
				}
				if m.Source, ok = parseLabel(mSourceTable, f[2]); !ok {
					return m, "来源渠道应为申请人自备、政府部门核发或其他"
				}
				if m.Necessity, ok = parseLabel(mNeedTable, f[3]); !ok {
					return m, "是否必要应为必要、非必要或容缺后补"
				}
				if m.Form, ok = parseLabel(mFormTable, f[4]); !ok {
					return m, "提交形式应为纸质、电子化或纸质+电子"
				}
				if m.Originals, ok = parseCount(f[5]); !ok {
					return m, "原件份数应为0至99的整数"
				}
				if m.Copies, ok = parseCount(f[6]); !ok {
					return m, "复印件份数应为0至99的整数"
				}
				return m, ""
			})
			return err
		}},
	// 办件表单: one field a line, 字段名称｜字段标识｜类型｜是否必填｜选项｜上限｜填写提示 (formfields.go).
	{header: "办件表单", keys: []string{"form"},
		get: func(it *Item) string { return formatForm(it.Form) },
		set: func(it *Item, v string, _ []ItemType) string {
			var err string
			it.Form, err = parseForm(v)
			return err
		}},
	{header: "办理流程", keys: []string{"steps"},
		get: func(it *Item) string {
			return joinEntries(it.Steps, func(s Step) []string {
				role := ""
				if s.Role == StepApprover {
					role = StepRoles[StepApprover]
				}
				return []string{s.Name, s.Group, s.Description, s.DeptUSCC, role}
			})
		},
		set: func(it *Item, v string, _ []ItemType) string {
			var err string
			it.Steps, err = parseEntries(v, 5, "环节名称｜环节分组｜环节说明｜办理部门统一社会信用代码｜办理角色", func(f []string) (Step, string) {
				st := Step{Name: f[0], Group: f[1], Description: f[2], DeptUSCC: f[3]}
				switch f[4] {
				case "", StepRoles[StepHandler]:
				case StepRoles[StepApprover]:
					st.Role = StepApprover
				default:
					return st, "办理角色应为“承办人员”或“审批人员”"
				}
				return st, ""
			})
			return err
		}},
	{header: "审批结果", keys: []string{"results"},
		get: func(it *Item) string {
			return joinEntries(it.Results, func(r Result) []string { return []string{r.Name, r.Type, r.Validity, r.Sample} })
		},
		set: func(it *Item, v string, _ []ItemType) string {
			var err string
			it.Results, err = parseEntries(v, 4, "结果名称｜结果类型｜有效期限｜样本", func(f []string) (Result, string) {
				return Result{Name: f[0], Type: f[1], Validity: f[2], Sample: f[3]}, ""
			})
			return err
		}},
	{header: "是否收费", keys: []string{"fee.charged"},
		get: func(it *Item) string { return yesNo(it.Fee.Charged) },
		set: func(it *Item, v string, _ []ItemType) string {
			var ok bool
			if it.Fee.Charged, ok = parseYesNo(v); !ok {
				return "是否收费应填“是”或“否”"
			}
			return ""
		}},
	{header: "收费依据", keys: []string{"fee.basis"},
		get: func(it *Item) string { return it.Fee.Basis },
		set: func(it *Item, v string, _ []ItemType) string { it.Fee.Basis = v; return "" }},
	{header: "收费项目", keys: []string{"fee.items"},
		get: func(it *Item) string { return it.Fee.Items },
		set: func(it *Item, v string, _ []ItemType) string { it.Fee.Items = v; return "" }},
	{header: "收费标准", keys: []string{"fee.standard"},
		get: func(it *Item) string { return it.Fee.Standard },
		set: func(it *Item, v string, _ []ItemType) string { it.Fee.Standard = v; return "" }},
	{header: "是否支持网上支付", keys: []string{"fee.online_pay"},
		get: func(it *Item) string {
			return map[string]string{"yes": "是", "no": "否"}[it.Fee.OnlinePay]
		},
		set: func(it *Item, v string, _ []ItemType) string {
			switch strings.TrimSpace(v) {
			case "":
				it.Fee.OnlinePay = ""
			case "是":
				it.Fee.OnlinePay = "yes"
			case "否":
				it.Fee.OnlinePay = "no"
			default:
				return "是否支持网上支付应填“是”或“否”"
			}
			return ""
		}},
	{header: "网上办理深度", keys: []string{"depth.codes"},
		get: func(it *Item) string { return joinLabels(DepthCodes, it.Depth.Codes) },
		set: func(it *Item, v string, _ []ItemType) string {
			var bad string
			it.Depth.Codes, bad = parseLabels(depthCodeTable, v)
			return unknown("网上办理深度", bad)
		}},
	{header: "网上办理深度等级", required: true, keys: []string{"depth.level"},
		get: func(it *Item) string { return labelOr(DepthLevels, it.Depth.Level) },
		set: func(it *Item, v string, _ []ItemType) string {
			n, ok := parseLabel(depthLevelTable, v)
			if !ok {
				return "网上办理深度等级应为Ⅰ级、Ⅱ级、Ⅲ级或Ⅳ级"
			}
			it.Depth.Level = n
			return ""
		}},
	{header: "到办事现场次数", keys: []string{"visits"},
		get: func(it *Item) string { return strconv.Itoa(it.Visits) },
		set: func(it *Item, v string, _ []ItemType) string {
			n, ok := parseCount(v)
			if !ok {
				return "到办事现场次数应为0至10的整数"
			}
			it.Visits = n
			return ""
		}},
	{header: "必须现场办理原因", keys: []string{"visit_reason"},
		get: func(it *Item) string { return it.VisitReason },
		set: func(it *Item, v string, _ []ItemType) string { it.VisitReason = v; return "" }},
	{header: "办理形式", required: true, keys: []string{"channels"},
		get: func(it *Item) string { return joinLabels(ChannelLabels, it.Channels) },
		set: func(it *Item, v string, _ []ItemType) string {
			var bad string
			it.Channels, bad = parseLabels(channelTable, v)
			return unknown("办理形式", bad)
		}},
	{header: "通办范围", required: true, keys: []string{"scope"},
		get: func(it *Item) string { return labelOr(ScopeLabels, it.Scope) },
		set: func(it *Item, v string, _ []ItemType) string {
			s, ok := parseLabel(scopeTable, v)
			if !ok {
				return "通办范围应为全国通办、跨省通办、全区通办、全市通办、全县通办或不通办"
			}
			it.Scope = s
			return ""
		}},
	{header: "跨省通办模式", keys: []string{"cross_province"},
		get: func(it *Item) string { return it.CrossProvince },
		set: func(it *Item, v string, _ []ItemType) string { it.CrossProvince = v; return "" }},
	{header: "一窗通办", keys: []string{"one_window"},
		get: func(it *Item) string { return yesNo(it.OneWindow) },
		set: func(it *Item, v string, _ []ItemType) string {
			var ok bool
			if it.OneWindow, ok = parseYesNo(v); !ok {
				return "一窗通办应填“是”或“否”"
			}
			return ""
		}},
	{header: "实名等级要求", keys: []string{"min_assurance"},
		get: func(it *Item) string { return labelOr(AssuranceLevels, it.MinAssurance) },
		set: func(it *Item, v string, _ []ItemType) string {
			if strings.TrimSpace(v) == "" {
				it.MinAssurance = 0
				return ""
			}
			n, ok := parseLabel(table(AssuranceLevels, nil), v)
			if !ok {
				return "实名等级要求应为不限或一至四级"
			}
			it.MinAssurance = n
			return ""
		}},
	{header: "办理地点", keys: []string{"contact.location"},
		get: func(it *Item) string { return it.Contact.Location },
		set: func(it *Item, v string, _ []ItemType) string { it.Contact.Location = v; return "" }},
	{header: "办理时间", keys: []string{"contact.hours"},
		get: func(it *Item) string { return it.Contact.Hours },
		set: func(it *Item, v string, _ []ItemType) string { it.Contact.Hours = v; return "" }},
	{header: "咨询电话", keys: []string{"contact.phone"},
		get: func(it *Item) string { return it.Contact.Phone },
		set: func(it *Item, v string, _ []ItemType) string { it.Contact.Phone = v; return "" }},
	{header: "投诉电话", keys: []string{"contact.complaint_phone"},
		get: func(it *Item) string { return it.Contact.Complaint },
		set: func(it *Item, v string, _ []ItemType) string { it.Contact.Complaint = v; return "" }},
	{header: "常见问题", keys: []string{"contact.faq"},
		get: func(it *Item) string { return it.Contact.FAQ },
		set: func(it *Item, v string, _ []ItemType) string { it.Contact.FAQ = v; return "" }},
	{header: "主题", keys: []string{"themes"},
		get: func(it *Item) string { return strings.Join(it.Themes, "\n") },
		set: func(it *Item, v string, _ []ItemType) string { it.Themes = lines(v); return "" }},
	{header: "关键词", keys: []string{"keywords"},
		get: func(it *Item) string { return strings.Join(it.Keywords, "\n") },
		set: func(it *Item, v string, _ []ItemType) string { it.Keywords = lines(v); return "" }},
	{header: "别名", keys: []string{"aliases"},
		get: func(it *Item) string { return strings.Join(it.Aliases, "\n") },
		set: func(it *Item, v string, _ []ItemType) string { it.Aliases = lines(v); return "" }},
}

// Headers returns the column headers in export order.
func Headers() []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = c.header
	}
	return out
}

// ColumnOf returns the header of the column that answers for a field key
// of Item.Check (e.g. "materials[2].name" → 申请材料), or "" when none does.
func ColumnOf(key string) string {
	base, _, _ := strings.Cut(key, "[")
	for _, c := range columns {
		if slices.Contains(c.keys, base) || slices.Contains(c.keys, key) {
			return c.header
		}
	}
	return ""
}

// FieldErrors turns the Fields of an Invalid error from Item.Check (or the
// service's department rules) into row errors, sorted by column order; the
// entry of a list element is named in the reason ("第2项：…"). Keys in skip
// are left out. Another error becomes one reason without a column.
func FieldErrors(row int, err error, skip ...string) []RowError {
	e, ok := errors.AsType[*errs.Error](err)
	if !ok || len(e.Fields) == 0 {
		return []RowError{{Row: row, Reason: errs.Message(err)}}
	}
	var out []RowError
	for k, msg := range e.Fields {
		if slices.Contains(skip, k) {
			continue
		}
		reason := msg
		if _, rest, ok := strings.Cut(k, "["); ok {
			if n, err := strconv.Atoi(rest[:strings.IndexByte(rest+"]", ']')]); err == nil {
				reason = fmt.Sprintf("第%d项：%s", n+1, msg)
			}
		}
		out = append(out, RowError{Row: row, Column: ColumnOf(k), Reason: reason})
	}
	order := func(h string) int {
		return slices.IndexFunc(columns, func(c column) bool { return c.header == h })
	}
	slices.SortFunc(out, func(a, b RowError) int {
		if c := order(a.Column) - order(b.Column); c != 0 {
			return c
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	return out
}

// ---- export ----

// exportRow returns the cells of it in column order; typeNames maps type
// codes to names.
func exportRow(it Item, typeNames map[string]string) []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = c.get(&it)
	}
	if n := typeNames[it.Type]; n != "" {
		out[slices.IndexFunc(columns, func(c column) bool { return c.header == "事项类型" })] = n
	}
	return out
}

func typeNames(types []ItemType) map[string]string {
	m := make(map[string]string, len(types))
	for _, t := range types {
		m[t.Code] = t.Name
	}
	return m
}

// CSVWriter writes items as CSV: UTF-8 with a byte-order mark, so that
// Excel opens it as UTF-8, and a header row. A cell starting with = + - @
// or a tab gets an apostrophe in front (OWASP's advice against CSV
// injection), so that a clerk's Excel or WPS shows it rather than runs it;
// import removes the apostrophe, so items come back unchanged.
type CSVWriter struct {
	w     *excelWriter
	names map[string]string
}

// NewCSVWriter writes the BOM and the header row to w.
func NewCSVWriter(w io.Writer, types []ItemType) (*CSVWriter, error) {
	x, err := excelCSV(w)
	if err != nil {
		return nil, err
	}
	cw := &CSVWriter{w: x, names: typeNames(types)}
	return cw, cw.w.Write(Headers())
}

// excelWriter writes the CSV files people open in a spreadsheet (the item
// export, an import's bad rows), every cell through defuse.
type excelWriter struct{ w *csv.Writer }

// excelCSV starts a CSV file Excel opens as UTF-8: a byte-order mark, and
// Excel's own line ends.
func excelCSV(w io.Writer) (*excelWriter, error) {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &excelWriter{w: cw}, nil
}

// Write writes one row, each cell defused. With UseCRLF the csv package
// drops a carriage return that no line feed follows (and writes one before
// each line feed), so defuse judges the cell as written: without its CRs.
func (x *excelWriter) Write(cells []string) error {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = defuse(strings.ReplaceAll(c, "\r", ""))
	}
	return x.w.Write(out)
}

// Flush writes buffered rows and reports any write error.
func (x *excelWriter) Flush() error {
	x.w.Flush()
	return x.w.Error()
}

// Write adds one item.
func (cw *CSVWriter) Write(it Item) error { return cw.w.Write(exportRow(it, cw.names)) }

// Flush writes buffered rows and reports any write error.
func (cw *CSVWriter) Flush() error { return cw.w.Flush() }

// writeRowErrors writes an import's bad rows as CSV (行号, 列, 原因), like
// the export: UTF-8 with a BOM, cells defused, since a reason may quote
// the uploaded file. Row 0, the file as a whole, is written 文件.
func writeRowErrors(w io.Writer, rows []RowError) error {
	cw, err := excelCSV(w)
	if err != nil {
		return err
	}
	if err := cw.Write([]string{"行号", "列", "原因"}); err != nil {
		return err
	}
	for _, e := range rows {
		row := "文件"
		if e.Row > 0 {
			row = strconv.Itoa(e.Row)
		}
		if err := cw.Write([]string{row, e.Column, e.Reason}); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// formulaStarts are the characters that make Excel, WPS or LibreOffice
// read a CSV cell starting with one of them as a formula (OWASP, "CSV
// injection"): = + - @, a tab, a carriage return and a line feed (which
// the csv package writes as CR LF, so the cell then starts with a CR).
const formulaStarts = "=+-@\t\r\n"

// formulaLike reports whether s, after any apostrophes it starts with,
// starts with a formula character.
func formulaLike(s string) bool {
	t := strings.TrimLeft(s, "'")
	return t != "" && strings.IndexByte(formulaStarts, t[0]) >= 0
}

// defuse returns the CSV cell for the value s: an apostrophe in front of
// formula-like text, which a spreadsheet then shows as text. A value that
// already has apostrophes before its formula character gets one more, so
// that undefuse, which takes one away, gives every value back unchanged.
func defuse(s string) string {
	if formulaLike(s) {
		return "'" + s
	}
	return s
}

// undefuse returns the value of an imported cell (CSV or .xlsx): defuse
// reversed. A cell starting with an apostrophe and then a formula
// character (after any further apostrophes) loses its first apostrophe;
// any other cell, "'0471" say, is the value as it stands.
func undefuse(s string) string {
	if strings.HasPrefix(s, "'") && formulaLike(s) {
		return s[1:]
	}
	return s
}

// xlsxCell returns the .xlsx cell for the value s. excelize writes strings
// as inline strings, never formulas, so formula-like text needs no
// apostrophe; only a value that already starts with one before a formula
// character gets another, since import takes one away (undefuse).
func xlsxCell(s string) string {
	if strings.HasPrefix(s, "'") {
		return defuse(s)
	}
	return s
}

// XLSXWriter writes items to one worksheet with excelize's stream writer,
// which keeps memory flat however many rows there are.
type XLSXWriter struct {
	f     *excelize.File
	sw    *excelize.StreamWriter
	names map[string]string
	row   int
}

// NewXLSXWriter starts a workbook with the header row.
func NewXLSXWriter(types []ItemType) (*XLSXWriter, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", XLSXSheet); err != nil {
		f.Close()
		return nil, err
	}
	sw, err := f.NewStreamWriter(XLSXSheet)
	if err != nil {
		f.Close()
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		f.Close()
		return nil, err
	}
	if err := sw.SetColWidth(1, len(columns), 24); err != nil {
		f.Close()
		return nil, err
	}
	x := &XLSXWriter{f: f, sw: sw, names: typeNames(types), row: 1}
	if err := x.set(Headers(), excelize.RowOpts{StyleID: bold}); err != nil {
		f.Close()
		return nil, err
	}
	return x, nil
}

func (x *XLSXWriter) set(cells []string, opts ...excelize.RowOpts) error {
	vals := make([]any, len(cells))
	for i, c := range cells {
		c = xlsxCell(c)
		if n := utf16Len(c); n > MaxCellChars {
			return &errs.Error{Kind: errs.Invalid, Op: "catalog.XLSXWriter", Msg: fmt.Sprintf("第%d行“%s”超过Excel单元格上限（%d字），请改用CSV导出", x.row, columns[i].header, MaxCellChars)}
		}
		vals[i] = c
	}
	cell, _ := excelize.CoordinatesToCellName(1, x.row)
	x.row++
	return x.sw.SetRow(cell, vals, opts...)
}

// Write adds one item.
func (x *XLSXWriter) Write(it Item) error { return x.set(exportRow(it, x.names)) }

// Finish writes the workbook to w and releases it.
func (x *XLSXWriter) Finish(w io.Writer) error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return err
	}
	return x.f.Write(w)
}

// Close releases the workbook without writing it.
func (x *XLSXWriter) Close() error { return x.f.Close() }

func utf16Len(s string) int {
	if len(s) <= MaxCellChars {
		return len(s) // an upper bound: every UTF-16 unit takes at least one byte of UTF-8
	}
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// ---- import ----

// Format is an import file's format.
type Format string

// The formats.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// DetectFormat decides a file's format from its first bytes, falling back
// on the file name's extension.
func DetectFormat(name string, data []byte) (Format, error) {
	const op = "catalog.DetectFormat"
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return "", fileErr(op, "文件是空的", nil)
	case bytes.HasPrefix(data, zipMagic):
		return XLSX, nil
	case bytes.HasPrefix(data, oleMagic):
		return "", fileErr(op, "不支持 Excel 97-2003（.xls）或加密的工作簿，请在 Excel 中另存为“Excel 工作簿（*.xlsx）”后再导入", nil)
	}
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".xlsx") {
		return "", fileErr(op, "文件不是有效的 .xlsx 工作簿（可能已损坏）", nil)
	}
	if strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".txt") || name == "" {
		return CSV, nil
	}
	return "", fileErr(op, "只能导入 .xlsx 或 .csv 文件", nil)
}

// Parse reads an import file of either format.
func Parse(name string, data []byte, types []ItemType) (*Sheet, error) {
	f, err := DetectFormat(name, data)
	if err != nil {
		return nil, err
	}
	if f == XLSX {
		return ParseXLSX(bytes.NewReader(data), types)
	}
	return ParseCSV(bytes.NewReader(data), types)
}

func fileErr(op, msg string, cause error) error {
	return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Fields: map[string]string{"file": msg}, Err: cause}
}

// readLimited reads all of r, refusing more than MaxImportBytes.
func readLimited(r io.Reader, op string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, fileErr(op, "读取文件失败", err)
	}
	if len(data) > MaxImportBytes {
		return nil, fileErr(op, fmt.Sprintf("文件超过%d MB，请分成多个文件导入", MaxImportBytes>>20), nil)
	}
	return data, nil
}

// ParseCSV reads a CSV import file: UTF-8 with or without a byte-order
// mark, or GB18030/GBK (as Excel saves "CSV" on Chinese Windows), which is
// converted and reported in Sheet.Notice. UTF-16 and undecodable bytes are
// refused.
func ParseCSV(r io.Reader, types []ItemType) (*Sheet, error) {
	const op = "catalog.ParseCSV"
	data, err := readLimited(r, op)
	if err != nil {
		return nil, err
	}
	sheet := &Sheet{}
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return nil, fileErr(op, "不支持 UTF-16 编码的文件，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”", nil)
	case bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")):
		data = data[3:]
	}
	if !utf8.Valid(data) {
		conv, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil || !utf8.Valid(conv) || bytes.ContainsRune(conv, utf8.RuneError) {
			return nil, fileErr(op, "文件编码无法识别：请使用 UTF-8 编码（在 Excel 中另存为“CSV UTF-8（逗号分隔）”）", err)
		}
		data = conv
		sheet.Notice = "文件为 GBK/GB18030 编码，已自动转换为 UTF-8 后导入；请核对导入结果中的中文是否正确"
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fileErr(op, "文件是空的", nil)
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	var p *parser
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := 0
			if pe, ok := errors.AsType[*csv.ParseError](err); ok {
				line = pe.Line
			}
			return nil, fileErr(op, fmt.Sprintf("CSV 格式错误（第%d行附近）：引号不配对或字段格式不对", line), err)
		}
		if p == nil {
			if p, err = newParser(rec, types, op, ""); err != nil {
				return nil, err
			}
			continue
		}
		if err := p.row(sheet, n, rec); err != nil {
			return nil, err
		}
	}
	if p == nil {
		return nil, fileErr(op, "文件是空的", nil)
	}
	return sheet, nil
}

// ParseXLSX reads an .xlsx import file: the worksheet named XLSXSheet if
// there is one, else the first. Archive sizes are bounded; excelize
// failures, panics included, are reported as a damaged file.
func ParseXLSX(r io.Reader, types []ItemType) (sheet *Sheet, err error) {
	const op = "catalog.ParseXLSX"
	data, err := readLimited(r, op)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(data, zipMagic) {
		if bytes.HasPrefix(data, oleMagic) {
			return nil, fileErr(op, "不支持 Excel 97-2003（.xls）或加密的工作簿，请另存为 .xlsx 后再导入", nil)
		}
		return nil, fileErr(op, "文件不是有效的 .xlsx 工作簿（可能已损坏）", nil)
	}
	// excelize is third-party code fed outside input: a panic in it must
	// not take the server down (FuzzParseXLSX looks for them).
	defer func() {
		if v := recover(); v != nil {
			sheet, err = nil, fileErr(op, "文件不是有效的 .xlsx 工作簿（可能已损坏）", fmt.Errorf("excelize panic: %v", v))
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: 64 << 20, UnzipXMLSizeLimit: 16 << 20})
	if err != nil {
		return nil, fileErr(op, "文件不是有效的 .xlsx 工作簿（可能已损坏）", err)
	}
	defer f.Close()
	list := f.GetSheetList()
	if len(list) == 0 {
		return nil, fileErr(op, "工作簿中没有工作表", nil)
	}
	name := list[0]
	if slices.Contains(list, XLSXSheet) {
		name = XLSXSheet
	}
	rows, err := f.Rows(name)
	if err != nil {
		return nil, fileErr(op, "无法读取工作表“"+clip(name)+"”", err)
	}
	defer rows.Close()
	sheet = &Sheet{}
	var p *parser
	// Rows.Next advances one spreadsheet row at a time, empty rows
	// included, so n is the row number Excel shows.
	for n := 1; rows.Next(); n++ {
		rec, err := rows.Columns()
		if err != nil {
			return nil, fileErr(op, fmt.Sprintf("工作表“%s”第%d行无法读取", clip(name), n), err)
		}
		if p == nil {
			if len(rec) == 0 {
				return nil, fileErr(op, "工作表“"+clip(name)+"”第1行应为表头（要素名称），但它是空的", nil)
			}
			if p, err = newParser(rec, types, op, name); err != nil {
				return nil, err
			}
			continue
		}
		if err := p.row(sheet, n, rec); err != nil {
			return nil, err
		}
	}
	if err := rows.Error(); err != nil {
		return nil, fileErr(op, "工作表“"+clip(name)+"”无法读取（可能已损坏或超过行数上限）", err)
	}
	if p == nil {
		return nil, fileErr(op, "工作表“"+clip(name)+"”是空的", nil)
	}
	return sheet, nil
}

// parser maps a file's columns to elements.
type parser struct {
	cols  []int // file column → index into columns, -1 for an empty header
	types []ItemType
	rows  int
	op    string
}

func newParser(header []string, types []ItemType, op, sheet string) (*parser, error) {
	where := "表头"
	if sheet != "" {
		where = "工作表“" + clip(sheet) + "”的表头"
	}
	if len(header) > maxColumns {
		return nil, fileErr(op, fmt.Sprintf("%s超过%d列", where, maxColumns), nil)
	}
	p := &parser{cols: make([]int, len(header)), types: types, op: op}
	seen := map[int]bool{}
	var unknownH, dup []string
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")), "*"))
		p.cols[i] = -1
		if h == "" {
			continue
		}
		j := slices.IndexFunc(columns, func(c column) bool { return c.header == h })
		switch {
		case j < 0:
			unknownH = append(unknownH, "“"+clip(h)+"”")
		case seen[j]:
			dup = append(dup, "“"+h+"”")
		default:
			seen[j] = true
			p.cols[i] = j
		}
	}
	var missing []string
	for j, c := range columns {
		if c.required && !seen[j] {
			missing = append(missing, "“"+c.header+"”")
		}
	}
	var msgs []string
	if len(unknownH) > 0 {
		msgs = append(msgs, "无法识别的列："+strings.Join(unknownH, "、"))
	}
	if len(dup) > 0 {
		msgs = append(msgs, "重复的列："+strings.Join(dup, "、"))
	}
	if len(missing) > 0 {
		msgs = append(msgs, "缺少必填的列："+strings.Join(missing, "、"))
	}
	if len(msgs) > 0 {
		return nil, fileErr(op, where+"有误："+strings.Join(msgs, "；")+"。请使用导出文件的表头（第1行）", nil)
	}
	return p, nil
}

// row reads one data row into sheet; blank rows are skipped. It fails only
// when the file has too many rows.
func (p *parser) row(sheet *Sheet, n int, rec []string) error {
	if !slices.ContainsFunc(rec, func(s string) bool { return strings.TrimSpace(s) != "" }) {
		return nil
	}
	p.rows++
	if p.rows > MaxImportRows {
		return fileErr(p.op, fmt.Sprintf("文件超过%d行事项，请分成多个文件导入", MaxImportRows), nil)
	}
	pr := ParsedRow{Row: n}
	if len(rec) > maxColumns {
		pr.Errors = append(pr.Errors, RowError{Row: n, Reason: fmt.Sprintf("超过%d列", maxColumns)})
		sheet.Rows = append(sheet.Rows, pr)
		return nil
	}
	// A row shorter than the header has empty cells at its end: every
	// column's reader runs, so a required element left out is reported.
	for len(rec) < len(p.cols) {
		rec = append(rec, "")
	}
	for i, v := range rec {
		v = undefuse(v) // an exported CSV's apostrophe before a formula
		switch {
		case i >= len(p.cols) || p.cols[i] < 0:
			if strings.TrimSpace(v) != "" {
				pr.Errors = append(pr.Errors, RowError{Row: n, Reason: fmt.Sprintf("第%d列没有表头，无法确定是哪个要素", i+1)})
			}
		case utf8.RuneCountInString(v) > MaxCellChars:
			pr.Errors = append(pr.Errors, RowError{Row: n, Column: columns[p.cols[i]].header, Reason: fmt.Sprintf("内容过长（超过%d字）", MaxCellChars)})
		case !utf8.ValidString(v):
			pr.Errors = append(pr.Errors, RowError{Row: n, Column: columns[p.cols[i]].header, Reason: "含无效字符"})
		default:
			c := columns[p.cols[i]]
			if reason := c.set(&pr.Item, v, p.types); reason != "" {
				pr.Errors = append(pr.Errors, RowError{Row: n, Column: c.header, Reason: reason})
			}
		}
	}
	// Check runs only on rows whose cells all parsed, so that its messages
	// do not repeat a format error in other words.
	if len(pr.Errors) == 0 {
		if err := pr.Item.Check(p.types); err != nil {
			// The department is resolved from the credit code by the importer.
			pr.Errors = FieldErrors(n, err, "dept_id")
		}
	}
	sheet.Rows = append(sheet.Rows, pr)
	return nil
}

// ---- cell formats ----

// clip shortens a value quoted in a message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 20 {
		return s
	}
	return string([]rune(s)[:20]) + "…"
}

func labelOr[K comparable](labels map[K]string, k K) string {
	if l, ok := labels[k]; ok {
		return l
	}
	var zero K
	if k == zero {
		return ""
	}
	return fmt.Sprint(k)
}

// parseLabel looks v up in a table (spaces around it ignored).
func parseLabel[K comparable](t map[string]K, v string) (K, bool) {
	k, ok := t[strings.TrimSpace(v)]
	return k, ok
}

func joinLabels[K comparable](labels map[K]string, ks []K) string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = labelOr(labels, k)
	}
	return strings.Join(out, "\n")
}

// parseLabels reads a list of labels, one a line (or separated by 、，,；;),
// and returns the first value it did not know.
func parseLabels[K comparable](t map[string]K, v string) ([]K, string) {
	var out []K
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune("\n\r、，,；;", r) }) {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		k, ok := parseLabel(t, s)
		if !ok {
			return nil, s
		}
		out = append(out, k)
	}
	return out, ""
}

func unknown(label, bad string) string {
	if bad == "" {
		return ""
	}
	return "无法识别的" + label + "“" + clip(bad) + "”"
}

// Lookup tables for import: each label of labels.go, plus a few common
// spellings people type.
var (
	levelTable      = table(Levels, map[string]int{"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6})
	kindTable       = table(KindLabels, nil)
	mTypeTable      = table(MaterialTypes, nil)
	mSourceTable    = table(MaterialSources, nil)
	mNeedTable      = table(MaterialNecessity, nil)
	mFormTable      = table(MaterialForms, map[string]int{"纸质和电子": 3})
	audienceTable   = table(AudienceLabels, map[string]Audience{"个人": Person, "企业法人": Legal, "法人或其他组织": Legal})
	channelTable    = table(ChannelLabels, nil)
	scopeTable      = table(ScopeLabels, map[string]string{"全省通办": "province"})
	depthCodeTable  = table(DepthCodes, map[string]int{"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "8": 8})
	depthLevelTable = table(DepthLevels, map[string]int{"Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "Ⅳ级": 4, "1": 1, "2": 2, "3": 3, "4": 4})
)

// table inverts labels (key → label) into label → key and adds extra.
func table[K comparable](labels map[K]string, extra map[string]K) map[string]K {
	out := make(map[string]K, len(labels)+len(extra))
	for k, l := range labels {
		out[l] = k
	}
	for l, k := range extra {
		out[l] = k
	}
	return out
}

func lines(v string) []string {
	var out []string
	for _, s := range strings.Split(strings.ReplaceAll(v, "\r\n", "\n"), "\n") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

func parseYesNo(v string) (bool, bool) {
	switch strings.TrimSpace(v) {
	case "是":
		return true, true
	case "否", "":
		return false, true
	}
	return false, false
}

// parseCount reads a small non-negative integer; empty is 0.
func parseCount(v string) (int, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0 && n <= 99
}

// formatLimit writes "20个工作日"; a zero limit without a unit is empty.
func formatLimit(l TimeLimit) string {
	if l.Days == 0 && l.Unit == "" && l.Note == "" {
		return ""
	}
	s := strconv.Itoa(l.Days) + UnitLabels[l.Unit]
	if l.Note != "" {
		s += Sep + l.Note
	}
	return s
}

// parseLimit reads "20个工作日", "20工作日", "15个自然日" (an optional
// "｜说明" after it); a number without a unit keeps the unit empty, which
// Check refuses for a non-zero limit.
func parseLimit(v string) (TimeLimit, string) {
	v = strings.TrimSpace(v)
	var l TimeLimit
	if v == "" {
		return l, ""
	}
	v, l.Note, _ = strings.Cut(v, Sep)
	l.Note = strings.TrimSpace(l.Note)
	v = strings.TrimSpace(v)
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(v[:i])
	if err != nil || i > 5 {
		return TimeLimit{}, "时限应写成“20个工作日”或“30个自然日”"
	}
	l.Days = n
	switch strings.TrimPrefix(strings.TrimSpace(v[i:]), "个") {
	case "工作日":
		l.Unit = Workday
	case "自然日":
		l.Unit = Natural
	case "", "天", "日":
	default:
		return TimeLimit{}, "时限应写成“20个工作日”或“30个自然日”"
	}
	return l, ""
}

// joinEntries writes a list element: one entry a line, sub-fields joined
// by Sep, each escaped; trailing empty sub-fields are left out.
func joinEntries[T any](list []T, fields func(T) []string) string {
	out := make([]string, len(list))
	for i, e := range list {
		f := fields(e)
		for len(f) > 1 && f[len(f)-1] == "" {
			f = f[:len(f)-1]
		}
		for j := range f {
			f[j] = escapeField(f[j])
		}
		out[i] = strings.Join(f, Sep)
	}
	return strings.Join(out, "\n")
}

var (
	fieldEscaper   = strings.NewReplacer(`\`, `\\`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`, Sep, `\`+Sep)
	fieldUnescaper = strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\`+Sep, Sep)
)

func escapeField(s string) string { return fieldEscaper.Replace(s) }

// parseEntries reads a list element: one entry a line (blank lines
// skipped), at most max sub-fields each; missing trailing sub-fields are
// empty. format names the sub-fields for the message on too many.
func parseEntries[T any](v string, max int, format string, entry func(f []string) (T, string)) ([]T, string) {
	var out []T
	n := 0
	for _, line := range strings.Split(strings.ReplaceAll(v, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		n++
		f := splitEntry(line)
		if len(f) > max {
			return nil, fmt.Sprintf("第%d项有%d个部分，最多%d个（%s）", n, len(f), max, format)
		}
		for len(f) < max {
			f = append(f, "")
		}
		e, bad := entry(f)
		if bad != "" {
			return nil, fmt.Sprintf("第%d项：%s", n, bad)
		}
		out = append(out, e)
	}
	return out, ""
}

// splitEntry splits a line at unescaped bars and unescapes each part.
func splitEntry(line string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(line); {
		switch {
		case line[i] == '\\' && i+1 < len(line):
			_, size := utf8.DecodeRuneInString(line[i+1:])
			i += 1 + size
		case strings.HasPrefix(line[i:], Sep):
			parts = append(parts, line[start:i])
			i += len(Sep)
			start = i
		default:
			i++
		}
	}
	parts = append(parts, line[start:])
	for i, p := range parts {
		parts[i] = fieldUnescaper.Replace(p)
	}
	return parts
}

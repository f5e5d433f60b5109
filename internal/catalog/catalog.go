package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"yiwang/internal/org"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/idcode"
)

// ItemType is a kind of item (事项类型). The table is data: provinces add
// types (e.g. 行政备案) and numeric codes differ between systems.
type ItemType struct {
	Code string // two letters, as in DB52/T 1264 (XK = 许可)
	Name string
}

// DefaultTypes are the national administrative-power types plus public
// services and the common provincial 行政备案.
var DefaultTypes = []ItemType{
	{"XK", "行政许可"}, {"CF", "行政处罚"}, {"QZ", "行政强制"}, {"ZS", "行政征收"},
	{"JF", "行政给付"}, {"JC", "行政检查"}, {"QR", "行政确认"}, {"JL", "行政奖励"},
	{"CJ", "行政裁决"}, {"QT", "其他行政权力"}, {"GG", "公共服务"}, {"BA", "行政备案"},
}

// Levels are the exercise levels (行使层级); 1, 5 and 6 are presumed
// (domain-rules §1.3, UNCONFIRMED) and kept as data.
var Levels = map[int]string{1: "国家级", 2: "省级", 3: "市级", 4: "县级", 5: "乡级", 6: "村级"}

// Audience is who an item serves (服务对象).
type Audience string

// The audiences.
const (
	Person Audience = "person" // 自然人
	Legal  Audience = "legal"  // 法人（企业、社会组织等）
)

// Unit is how a time limit counts days.
type Unit string

// The units.
const (
	Workday Unit = "workday" // 工作日
	Natural Unit = "natural" // 自然日
)

// TimeLimit is a deadline of N days.
type TimeLimit struct {
	Days int    `json:"days"`
	Unit Unit   `json:"unit"`
	Note string `json:"note,omitempty"`
}

// Kind says whether a case is decided on the spot (即办件) or later (承诺件).
type Kind string

// The kinds.
const (
	Immediate Kind = "immediate" // 即办件
	Promised  Kind = "promised"  // 承诺件
)

// LegalBasis is one entry of 设定依据.
type LegalBasis struct {
	Name      string `json:"name"`           // 法律法规名称
	DocNo     string `json:"doc_no"`         // 文号
	Article   string `json:"article"`        // 条款号
	Content   string `json:"content"`        // 条款内容
	Issuer    string `json:"issuer"`         // 颁布机关
	Effective string `json:"effective_date"` // 实施日期 YYYY-MM-DD
}

// Material is one required document (申请材料). The numeric codes follow
// observed national data (domain-rules §1.3).
type Material struct {
	Name      string `json:"name"`
	Type      int    `json:"type"`      // 1 证件证书证明, 2 申请表格文书, 3 其他
	Source    int    `json:"source"`    // 10 申请人自备, 20 政府部门核发, 99 其他
	Necessity int    `json:"necessity"` // 1 必要, 2 非必要, 3 容缺后补
	Form      int    `json:"form"`      // 1 纸质, 2 电子化, 3 纸质+电子
	Originals int    `json:"originals"` // 原件份数
	Copies    int    `json:"copies"`    // 复印件份数
	Paper     string `json:"paper,omitempty"`
	Notes     string `json:"notes,omitempty"`      // 填报须知
	BlankForm string `json:"blank_form,omitempty"` // attachment id of 空表
	Sample    string `json:"sample,omitempty"`     // attachment id of 样表
}

// Step is one step of the process (办理流程).
type Step struct {
	Name        string `json:"name"` // 收件, 受理, 审查, 决定, 制证, 送达 …
	Group       string `json:"group,omitempty"`
	Description string `json:"description,omitempty"`
	// DeptID is the department that handles the step (后台分类审批); empty
	// means the implementing department. DeptName and DeptUSCC (how import
	// and export name it) are filled in on save.
	DeptID   string `json:"dept_id,omitempty"`
	DeptName string `json:"dept_name,omitempty"`
	DeptUSCC string `json:"dept_uscc,omitempty"`
	// Role is who acts at the step: StepHandler (承办人员, the default) or
	// StepApprover (审批人员, who holds cases.approve).
	Role string `json:"role,omitempty"`
}

// The step roles.
const (
	StepHandler  = "handle"
	StepApprover = "approve"
)

// RoutedSteps reports, step by step, whether a case works the step after
// acceptance, where a step may name its department and role: not the
// intake steps (收件, 受理, 接件: the comprehensive window's, before
// acceptance), and none after 决定 (制证, 送达: the result's delivery).
func RoutedSteps(steps []Step) []bool {
	out := make([]bool, len(steps))
	for i, st := range steps {
		if st.Name == "收件" || st.Name == "受理" || st.Name == "接件" {
			continue
		}
		out[i] = true
		if st.Name == "决定" {
			break
		}
	}
	return out
}

// StepRoles names the step roles in zh-CN.
var StepRoles = map[string]string{StepHandler: "承办人员", StepApprover: "审批人员"}

// Result is what the applicant receives (审批结果).
type Result struct {
	Type     string `json:"type"` // 证照, 批文, 证明文件, 鉴定报告, 其他
	Name     string `json:"name"`
	Validity string `json:"validity,omitempty"`
	Sample   string `json:"sample,omitempty"`
}

// Fee says whether and how the item is charged (收费).
type Fee struct {
	Charged   bool   `json:"charged"`
	Basis     string `json:"basis,omitempty"`
	Items     string `json:"items,omitempty"`
	Standard  string `json:"standard,omitempty"`
	OnlinePay string `json:"online_pay,omitempty"` // "yes" / "no"; required when charged
}

// Special is a special procedure (特别程序) whose time does not count.
type Special struct {
	Name  string    `json:"name"`
	Limit TimeLimit `json:"limit"`
}

// Depth is the online service depth (网上办理深度): the multi-select codes
// 1–8 and the level Ⅰ–Ⅳ (Ⅳ = 全程网办).
type Depth struct {
	Codes []int `json:"codes"`
	Level int   `json:"level"`
}

// DepthCodes names the multi-select depth codes.
var DepthCodes = map[int]string{1: "互联网咨询", 2: "互联网收件", 3: "互联网预审", 4: "互联网受理",
	5: "互联网办理", 6: "互联网办理结果信息反馈", 7: "互联网电子证照反馈", 8: "其他"}

// Channel is a way to apply (办理形式).
type Channel string

// The channels.
const (
	Window      Channel = "window"      // 窗口办理
	Online      Channel = "online"      // 网上办理
	Mail        Channel = "mail"        // 快递申请
	Mobile      Channel = "mobile"      // 移动端办理
	Appointment Channel = "appointment" // 预约办理
)

// Scopes are the 通办 scopes.
var Scopes = []string{"national", "cross_province", "province", "city", "county", "none"}

// CrossProvinceModes are the 跨省通办 modes.
var CrossProvinceModes = []string{"全程网办", "异地代收代办", "多地联办"}

// Contact is where and how to ask.
type Contact struct {
	Location  string `json:"location,omitempty"`
	Hours     string `json:"hours,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Complaint string `json:"complaint_phone,omitempty"`
	FAQ       string `json:"faq,omitempty"`
}

// Item is one implementation item (实施清单事项) with all its elements.
type Item struct {
	BasicCode     string       `json:"basic_code"` // 基本编码, 12 characters
	Code          string       `json:"code"`       // 实施编码, 31 characters
	Name          string       `json:"name"`
	Type          string       `json:"type"`
	Level         int          `json:"level"`
	Region        string       `json:"region"`
	DeptID        string       `json:"dept_id"`
	DeptName      string       `json:"dept_name"`
	DeptUSCC      string       `json:"dept_uscc"`
	Audiences     []Audience   `json:"audiences"`
	LegalBasis    []LegalBasis `json:"legal_basis"`
	Conditions    string       `json:"conditions"`
	LegalLimit    TimeLimit    `json:"legal_limit"`
	PromisedLimit TimeLimit    `json:"promised_limit"`
	Kind          Kind         `json:"kind"`
	Special       []Special    `json:"special,omitempty"`
	Materials     []Material   `json:"materials"`
	Form          []FormField  `json:"form,omitempty"` // 办件表单 (online application form): formfields.go
	Steps         []Step       `json:"steps"`
	Results       []Result     `json:"results"`
	Fee           Fee          `json:"fee"`
	Depth         Depth        `json:"depth"`
	Visits        int          `json:"visits"`
	VisitReason   string       `json:"visit_reason,omitempty"`
	Channels      []Channel    `json:"channels"`
	Scope         string       `json:"scope"`
	CrossProvince string       `json:"cross_province,omitempty"`
	OneWindow     bool         `json:"one_window"`
	// MinAssurance is the lowest account assurance level (实名等级, 1–4) an
	// online applicant needs; 0 means any signed-in account.
	MinAssurance int      `json:"min_assurance,omitempty"`
	Contact      Contact  `json:"contact"`
	Themes       []string `json:"themes,omitempty"`
	Keywords     []string `json:"keywords,omitempty"`
	Aliases      []string `json:"aliases,omitempty"`
}

// OnlineApplication reports whether citizens may apply online.
func (it Item) OnlineApplication() bool { return slices.Contains(it.Channels, Online) }

// ImplementationCode composes the 31-character 实施编码: the implementing
// body's credit code, the level digit and the basic code (observed layout,
// domain-rules §1.5; the meaning of the level digit is inferred).
func ImplementationCode(uscc string, level int, basic string) string {
	return uscc + fmt.Sprint(level) + basic
}

// BasicCode composes a 12-character 基本编码: the 2-digit province, the
// 2-letter type, a 5-digit main item and a 3-digit sub-item (the Guizhou
// 10-character layout behind a province prefix; the national layout of
// GB/T 39554.1 is UNCONFIRMED, so codes are validated only by shape).
func BasicCode(province, typ string, main, sub int) string {
	return fmt.Sprintf("%s%s%05d%03d", province[:2], typ, main, sub)
}

// problems collects field errors, keyed by the field's path in the form.
type problems map[string]string

func (p problems) text(key, label, v string, lo, hi int) {
	n := utf8.RuneCountInString(v)
	switch {
	case !utf8.ValidString(v):
		p[key] = label + "含无效字符"
	case lo > 0 && n == 0:
		p[key] = "请填写" + label
	case n < lo:
		p[key] = fmt.Sprintf("%s至少%d个字", label, lo)
	case n > hi:
		p[key] = fmt.Sprintf("%s不能超过%d个字", label, hi)
	}
}

func (p problems) limit(key, label string, l TimeLimit, required bool) {
	switch {
	case l.Days < 0 || l.Days > 3650:
		p[key] = label + "应在0至3650天之间"
	case required && l.Days == 0:
		p[key] = "请填写" + label
	case l.Days > 0 && l.Unit != Workday && l.Unit != Natural:
		p[key] = label + "须注明工作日或自然日"
	}
}

// Check normalises it and reports every violation of the element rules,
// each named on its field (e.g. "materials[2].name"). types is the item
// type table in force.
func (it *Item) Check(types []ItemType) error {
	trim(it)
	p := problems{}
	p.text("name", "事项名称", it.Name, 2, 100)
	if !slices.ContainsFunc(types, func(t ItemType) bool { return t.Code == it.Type }) {
		p["type"] = "请选择事项类型"
	}
	if _, ok := Levels[it.Level]; !ok {
		p["level"] = "请选择行使层级"
	}
	if norm, _, _, err := org.ParseRegionCode(it.Region); err != nil {
		p["region"] = "请选择实施地区"
	} else {
		it.Region = norm
	}
	if it.DeptID == "" {
		p["dept_id"] = "请选择实施主体"
	}
	if it.DeptUSCC != "" {
		if err := idcode.ValidateUSCC(it.DeptUSCC); err != nil {
			p["dept_uscc"] = errs.Message(err)
		}
	}
	if !validBasicCode(it.BasicCode) {
		p["basic_code"] = "基本编码应为12位数字或大写字母"
	}
	if len(it.Audiences) == 0 {
		p["audiences"] = "请选择服务对象"
	}
	for _, a := range it.Audiences {
		if a != Person && a != Legal {
			p["audiences"] = "服务对象只能是自然人或法人"
		}
	}
	if it.Type != "GG" && len(it.LegalBasis) == 0 {
		p["legal_basis"] = "行政权力事项须填写设定依据"
	}
	for i, b := range it.LegalBasis {
		p.text(fmt.Sprintf("legal_basis[%d].name", i), "法律法规名称", b.Name, 2, 200)
		p.text(fmt.Sprintf("legal_basis[%d].content", i), "条款内容", b.Content, 0, 5000)
	}
	p.text("conditions", "受理条件", it.Conditions, 0, 5000)
	p.limit("legal_limit", "法定办结时限", it.LegalLimit, false)
	switch it.Kind {
	case Immediate:
		if it.PromisedLimit.Days != 0 {
			p["promised_limit"] = "即办件当场办结，承诺时限应为0"
		}
	case Promised:
		p.limit("promised_limit", "承诺办结时限", it.PromisedLimit, true)
		if it.LegalLimit.Days > 0 && it.PromisedLimit.Unit == it.LegalLimit.Unit && it.PromisedLimit.Days > it.LegalLimit.Days {
			p["promised_limit"] = "承诺办结时限不能长于法定办结时限"
		}
	default:
		p["kind"] = "请选择办件类型（即办件或承诺件）"
	}
	for i, sp := range it.Special {
		p.text(fmt.Sprintf("special[%d].name", i), "特别程序名称", sp.Name, 2, 100)
		p.limit(fmt.Sprintf("special[%d].limit", i), "特别程序时限", sp.Limit, false)
	}
	for i, m := range it.Materials {
		key := fmt.Sprintf("materials[%d]", i)
		p.text(key+".name", "材料名称", m.Name, 2, 200)
		if m.Type < 1 || m.Type > 3 {
			p[key+".type"] = "请选择材料类型"
		}
		if m.Source != 10 && m.Source != 20 && m.Source != 99 {
			p[key+".source"] = "请选择来源渠道"
		}
		if m.Necessity < 1 || m.Necessity > 3 {
			p[key+".necessity"] = "请选择是否必要"
		}
		if m.Form < 1 || m.Form > 3 {
			p[key+".form"] = "请选择提交形式"
		}
		if m.Originals < 0 || m.Copies < 0 || m.Originals > 99 || m.Copies > 99 {
			p[key+".copies"] = "份数应在0至99之间"
		}
	}
	checkForm(p, it.Form) // 办件表单: formfields.go
	for i, s := range it.Steps {
		p.text(fmt.Sprintf("steps[%d].name", i), "环节名称", s.Name, 2, 50)
		if s.Role != "" && StepRoles[s.Role] == "" {
			p[fmt.Sprintf("steps[%d].role", i)] = "请选择办理角色"
		}
	}
	for i, r := range it.Results {
		p.text(fmt.Sprintf("results[%d].name", i), "结果名称", r.Name, 2, 100)
	}
	// domain-rules §1.4: if charged, basis, items and online payment are required.
	if it.Fee.Charged {
		if it.Fee.Basis == "" {
			p["fee.basis"] = "收费事项须填写收费依据"
		}
		if it.Fee.Items == "" {
			p["fee.items"] = "收费事项须填写收费项目"
		}
		if it.Fee.OnlinePay != "yes" && it.Fee.OnlinePay != "no" {
			p["fee.online_pay"] = "收费事项须说明是否支持网上支付"
		}
	}
	seen := map[int]bool{}
	for _, c := range it.Depth.Codes {
		if DepthCodes[c] == "" || seen[c] {
			p["depth.codes"] = "网上办理深度只能从1至8中选择，且不能重复"
		}
		seen[c] = true
	}
	slices.Sort(it.Depth.Codes)
	if it.Depth.Level < 1 || it.Depth.Level > 4 {
		p["depth.level"] = "请选择网上办理深度等级（Ⅰ至Ⅳ级）"
	}
	switch {
	case it.Visits < 0 || it.Visits > 10:
		p["visits"] = "到办事现场次数应在0至10之间"
	// §1.4: level Ⅳ (全程网办) means no visit.
	case it.Depth.Level == 4 && it.Visits != 0:
		p["visits"] = "全程网办（Ⅳ级）事项的到现场次数必须为0"
	// §1.4: a visit needs its reason.
	case it.Visits > 0 && it.VisitReason == "":
		p["visit_reason"] = "到现场次数大于0时须说明必须现场办理的原因"
	}
	for _, c := range it.Channels {
		if !slices.Contains([]Channel{Window, Online, Mail, Mobile, Appointment}, c) {
			p["channels"] = "办理形式无效"
		}
	}
	if len(it.Channels) == 0 {
		p["channels"] = "请选择办理形式"
	}
	// §1.4: no visit and not online ⇒ mail must be offered.
	if it.Visits == 0 && !it.OnlineApplication() && !slices.Contains(it.Channels, Mail) && len(it.Channels) > 0 {
		p["channels"] = "零跑动且不能网办的事项须支持快递申请"
	}
	if it.MinAssurance < 0 || it.MinAssurance > 4 {
		p["min_assurance"] = "实名等级要求应为不限或一至四级"
	}
	if !slices.Contains(Scopes, it.Scope) {
		p["scope"] = "请选择通办范围"
	}
	if it.CrossProvince != "" {
		if !slices.Contains(CrossProvinceModes, it.CrossProvince) {
			p["cross_province"] = "跨省通办模式无效"
		} else if it.Scope != "national" && it.Scope != "cross_province" {
			p["cross_province"] = "只有全国或跨省通办事项才有跨省通办模式"
		}
	}
	for _, list := range []struct {
		key, label string
		v          []string
	}{{"themes", "主题", it.Themes}, {"keywords", "关键词", it.Keywords}, {"aliases", "别名", it.Aliases}} {
		if len(list.v) > 30 {
			p[list.key] = list.label + "不能超过30个"
		}
		for _, v := range list.v {
			if n := utf8.RuneCountInString(v); n == 0 || n > 30 || !utf8.ValidString(v) {
				p[list.key] = list.label + "每个应为1至30个字"
			}
		}
	}
	if len(p) > 0 {
		return &errs.Error{Kind: errs.Invalid, Op: "catalog.Item.Check", Msg: "事项要素不完整或不一致，请按提示修改", Fields: p}
	}
	return nil
}

func validBasicCode(c string) bool {
	if len(c) != 12 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !(c[i] >= '0' && c[i] <= '9' || c[i] >= 'A' && c[i] <= 'Z') {
			return false
		}
	}
	return true
}

// trim removes surrounding spaces from every free-text element and drops
// empty list entries.
func trim(it *Item) {
	for _, s := range []*string{&it.BasicCode, &it.Code, &it.Name, &it.Type, &it.Region, &it.DeptID, &it.DeptUSCC, &it.Conditions,
		&it.VisitReason, &it.Scope, &it.CrossProvince, &it.Fee.Basis, &it.Fee.Items, &it.Fee.Standard, &it.Fee.OnlinePay,
		&it.Contact.Location, &it.Contact.Hours, &it.Contact.Phone, &it.Contact.Complaint, &it.Contact.FAQ} {
		*s = strings.TrimSpace(*s)
	}
	it.BasicCode = strings.ToUpper(it.BasicCode)
	for _, l := range []*[]string{&it.Themes, &it.Keywords, &it.Aliases} {
		out := (*l)[:0]
		for _, v := range *l {
			if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		*l = out
	}
	for i := range it.Materials {
		it.Materials[i].Name = strings.TrimSpace(it.Materials[i].Name)
	}
	for i := range it.LegalBasis {
		it.LegalBasis[i].Name = strings.TrimSpace(it.LegalBasis[i].Name)
	}
}

// Change is one element that differs between two versions.
type Change struct {
	Field    string
	Old, New string
}

// Diff lists the top-level elements that differ between a and b, each with
// its old and new value as JSON, sorted by field name.
func Diff(a, b Item) []Change {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var ma, mb map[string]json.RawMessage
	json.Unmarshal(ja, &ma)
	json.Unmarshal(jb, &mb)
	var keys []string
	for k := range ma {
		keys = append(keys, k)
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []Change
	for _, k := range keys {
		if string(ma[k]) != string(mb[k]) {
			out = append(out, Change{Field: k, Old: string(ma[k]), New: string(mb[k])})
		}
	}
	return out
}

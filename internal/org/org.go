package org

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/idcode"
)

// Level is a region's place in the hierarchy.
type Level string

// The region levels.
const (
	Province Level = "province" // 省级
	City     Level = "city"     // 地市级 (盟、市)
	County   Level = "county"   // 县级 (旗、县、区)
	Township Level = "township" // 乡级 (苏木、乡、镇、街道)
)

// Label returns the zh-CN name of l.
func (l Level) Label() string {
	switch l {
	case Province:
		return "省级"
	case City:
		return "地市级"
	case County:
		return "县级"
	case Township:
		return "乡级"
	}
	return string(l)
}

// Region is an administrative division (行政区划).
type Region struct {
	Code   string
	Name   string
	Level  Level
	Parent string // empty for provinces
	Zone   bool   // development or management zone (5th digit 7), not a GB/T 2260 county
}

// ParseRegionCode checks a region code and derives its level and parent:
// six digits for province, prefecture and county (GB/T 2260), nine for
// townships (statistical code); the 12-digit form is accepted when its last
// three digits are 000.
func ParseRegionCode(code string) (norm string, level Level, parent string, err error) {
	if len(code) == 12 && strings.HasSuffix(code, "000") {
		code = code[:9]
	}
	bad := &errs.Error{Kind: errs.Invalid, Op: "org.ParseRegionCode", Msg: "行政区划代码应为6位或9位数字"}
	if len(code) != 6 && len(code) != 9 {
		return "", "", "", bad
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return "", "", "", bad
		}
	}
	if code[:2] == "00" {
		return "", "", "", bad
	}
	switch {
	case len(code) == 9:
		// A township lies in a county, or directly in a prefecture-level
		// city without counties (东莞 441900xxx); never directly in a province.
		if code[6:] == "000" || code[2:4] == "00" {
			return "", "", "", bad
		}
		return code, Township, code[:6], nil
	case code[2:] == "0000":
		return code, Province, "", nil
	case code[4:] == "00":
		return code, City, code[:2] + "0000", nil
	case code[2:4] == "00":
		return "", "", "", bad // a county needs a prefecture part
	}
	return code, County, code[:4] + "00", nil
}

// IsZone reports whether a county-level statistical code is a development or
// management zone rather than a GB/T 2260 division.
func IsZone(code string) bool {
	return len(code) == 6 && code[4] == '7' && code[2:4] != "00" && code[4:] != "00"
}

// Department is a government department (部门).
type Department struct {
	ID         string
	Name       string
	ShortName  string
	USCC       string // 统一社会信用代码, may be empty for internal units
	Region     string
	RegionName string
	ParentID   string
	Path       string
	Phone      string
	Address    string
	Sort       int
	Active     bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Version    int
}

// DeptInput is what a person submits to create or change a department.
type DeptInput struct {
	Name      string
	ShortName string
	USCC      string
	Region    string
	ParentID  string
	Phone     string
	Address   string
	Sort      int
	Version   int // for updates: the version the editor saw
}

// Check trims the input and reports every invalid field at once.
func (in *DeptInput) Check() error {
	in.Name = strings.TrimSpace(in.Name)
	in.ShortName = strings.TrimSpace(in.ShortName)
	in.USCC = strings.ToUpper(strings.TrimSpace(in.USCC))
	in.Region = strings.TrimSpace(in.Region)
	in.Phone = strings.TrimSpace(in.Phone)
	in.Address = strings.TrimSpace(in.Address)
	f := map[string]string{}
	checkLen(f, "name", "部门名称", in.Name, 2, 100)
	checkLen(f, "short_name", "简称", in.ShortName, 0, 30)
	checkLen(f, "phone", "联系电话", in.Phone, 0, 40)
	checkLen(f, "address", "地址", in.Address, 0, 200)
	if in.USCC != "" {
		if err := idcode.ValidateUSCC(in.USCC); err != nil {
			f["uscc"] = errs.Message(err)
		}
	}
	if norm, _, _, err := ParseRegionCode(in.Region); err != nil {
		f["region"] = "请选择有效的行政区划"
	} else {
		in.Region = norm
	}
	if in.Sort < 0 || in.Sort > 100000 {
		f["sort"] = "排序号应在0至100000之间"
	}
	return fieldErrors("org.DeptInput.Check", f)
}

// Hall is a government service hall (政务服务大厅).
type Hall struct {
	ID         string
	Name       string
	Region     string
	RegionName string
	Address    string
	Phone      string
	Hours      string
	Active     bool
	Windows    int // number of windows, in lists
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Version    int
}

// HallInput is what a person submits to create or change a hall.
type HallInput struct {
	Name, Region, Address, Phone, Hours string
	Version                             int
}

// Check trims the input and reports every invalid field at once.
func (in *HallInput) Check() error {
	in.Name = strings.TrimSpace(in.Name)
	in.Region = strings.TrimSpace(in.Region)
	in.Address = strings.TrimSpace(in.Address)
	in.Phone = strings.TrimSpace(in.Phone)
	in.Hours = strings.TrimSpace(in.Hours)
	f := map[string]string{}
	checkLen(f, "name", "大厅名称", in.Name, 2, 100)
	checkLen(f, "address", "地址", in.Address, 0, 200)
	checkLen(f, "phone", "联系电话", in.Phone, 0, 40)
	checkLen(f, "hours", "办公时间", in.Hours, 0, 200)
	if norm, _, _, err := ParseRegionCode(in.Region); err != nil {
		f["region"] = "请选择有效的行政区划"
	} else {
		in.Region = norm
	}
	return fieldErrors("org.HallInput.Check", f)
}

// WindowKind says what a window does.
type WindowKind string

// The window kinds.
const (
	Comprehensive WindowKind = "comprehensive" // 综合受理窗口 (无差别受理)
	Specialized   WindowKind = "specialized"   // 专业窗口 (部门进驻)
	Pickup        WindowKind = "pickup"        // 统一出件窗口
	Consult       WindowKind = "consult"       // 咨询导办
	Help          WindowKind = "help"          // 办不成事反映窗口
)

// WindowKinds lists the kinds in display order.
var WindowKinds = []WindowKind{Comprehensive, Specialized, Pickup, Consult, Help}

// Label returns the zh-CN name of k.
func (k WindowKind) Label() string {
	switch k {
	case Comprehensive:
		return "综合受理窗口"
	case Specialized:
		return "专业窗口"
	case Pickup:
		return "统一出件窗口"
	case Consult:
		return "咨询导办窗口"
	case Help:
		return "办不成事反映窗口"
	}
	return string(k)
}

// Window is one window of a hall (窗口).
type Window struct {
	ID       string
	HallID   string
	Number   string
	Name     string
	Kind     WindowKind
	DeptID   string // required for specialized windows, empty otherwise
	DeptName string
	DeptPath string
	Active   bool
	Version  int
}

// WindowInput is what a person submits to create or change a window.
type WindowInput struct {
	Number, Name string
	Kind         WindowKind
	DeptID       string
	Version      int
}

// Check trims the input and reports every invalid field at once.
func (in *WindowInput) Check() error {
	in.Number = strings.TrimSpace(in.Number)
	in.Name = strings.TrimSpace(in.Name)
	in.DeptID = strings.TrimSpace(in.DeptID)
	f := map[string]string{}
	checkLen(f, "number", "窗口编号", in.Number, 1, 20)
	checkLen(f, "name", "窗口名称", in.Name, 2, 60)
	valid := false
	for _, k := range WindowKinds {
		valid = valid || k == in.Kind
	}
	if !valid {
		f["kind"] = "请选择窗口类型"
	}
	switch {
	case in.Kind == Specialized && in.DeptID == "":
		f["dept_id"] = "专业窗口须指定进驻部门"
	case in.Kind != Specialized && in.DeptID != "":
		f["dept_id"] = "只有专业窗口需要指定进驻部门"
	}
	return fieldErrors("org.WindowInput.Check", f)
}

func checkLen(f map[string]string, key, label, v string, lo, hi int) {
	n := utf8.RuneCountInString(v)
	switch {
	case !utf8.ValidString(v):
		f[key] = label + "含无效字符"
	case lo > 0 && n == 0:
		f[key] = "请填写" + label
	case n < lo:
		f[key] = label + "至少" + strconv.Itoa(lo) + "个字"
	case n > hi:
		f[key] = label + "不能超过" + strconv.Itoa(hi) + "个字"
	}
}

func fieldErrors(op string, f map[string]string) error {
	if len(f) == 0 {
		return nil
	}
	return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "请检查填写的内容", Fields: f}
}

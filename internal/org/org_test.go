package org_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"yiwang/internal/org"
	"yiwang/internal/platform/authz"
	"yiwang/internal/platform/errs"
)

// validUSCC is a well-formed 统一社会信用代码 (check char correct).
const validUSCC = "91350100M000100Y43"

// fieldKeys returns the sorted keys of err's Fields, or nil when err is not
// an *errs.Error.
func fieldKeys(err error) []string {
	e, ok := errors.AsType[*errs.Error](err)
	if !ok || len(e.Fields) == 0 {
		return nil
	}
	var keys []string
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestParseRegionCode(t *testing.T) {
	type parsed struct {
		Norm   string
		Level  org.Level
		Parent string
	}
	tests := []struct {
		name, code string
		want       parsed
		wantErr    bool
	}{
		{name: "province", code: "150000", want: parsed{"150000", org.Province, ""}},
		{name: "municipality", code: "110000", want: parsed{"110000", org.Province, ""}},
		{name: "city", code: "150100", want: parsed{"150100", org.City, "150000"}},
		{name: "league", code: "152900", want: parsed{"152900", org.City, "150000"}},
		{name: "county", code: "150102", want: parsed{"150102", org.County, "150100"}},
		{name: "banner under league", code: "152921", want: parsed{"152921", org.County, "152900"}},
		{name: "zone", code: "150172", want: parsed{"150172", org.County, "150100"}},
		{name: "township", code: "150102001", want: parsed{"150102001", org.Township, "150102"}},
		{name: "township 12-digit form", code: "150102001000", want: parsed{"150102001", org.Township, "150102"}},
		{name: "township under city without counties", code: "441900003", want: parsed{"441900003", org.Township, "441900"}},

		{name: "empty", code: "", wantErr: true},
		{name: "two digits", code: "15", wantErr: true},
		{name: "four digits", code: "1501", wantErr: true},
		{name: "five digits", code: "15010", wantErr: true},
		{name: "seven digits", code: "1501020", wantErr: true},
		{name: "eight digits", code: "15010200", wantErr: true},
		{name: "ten digits", code: "1501020010", wantErr: true},
		{name: "eleven digits", code: "15010200100", wantErr: true},
		{name: "12 digits not ending 000", code: "150102001001", wantErr: true},
		{name: "thirteen digits", code: "1501020010000", wantErr: true},
		{name: "township 000", code: "150102000", wantErr: true},
		{name: "province 00", code: "000000", wantErr: true},
		{name: "province 00 county", code: "001234", wantErr: true},
		{name: "letter", code: "15010a", wantErr: true},
		{name: "sign", code: "-15010", wantErr: true},
		{name: "leading space", code: " 150100", wantErr: true},
		{name: "trailing space", code: "150100 ", wantErr: true},
		{name: "full-width digits", code: "１５０１００", wantErr: true},
		{name: "invalid utf-8", code: "15\xff100", wantErr: true},
		// BUG: a county-level code needs a prefecture part; 15 00 02 would be
		// a county whose parent (150000) is a province, skipping the city
		// level, and a township directly under a province likewise.
		{name: "county without prefecture", code: "150002", wantErr: true},
		{name: "township without prefecture", code: "150000001", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			norm, level, parent, err := org.ParseRegionCode(tc.code)
			if tc.wantErr {
				if err == nil || errs.KindOf(err) != errs.Invalid {
					t.Fatalf("ParseRegionCode(%q) = %q, %q, %q, %v; want kind Invalid", tc.code, norm, level, parent, err)
				}
				if norm != "" || level != "" || parent != "" {
					t.Errorf("ParseRegionCode(%q) returned %q, %q, %q with its error; want zero values", tc.code, norm, level, parent)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRegionCode(%q): %v", tc.code, err)
			}
			if diff := cmp.Diff(tc.want, parsed{norm, level, parent}); diff != "" {
				t.Errorf("ParseRegionCode(%q) mismatch (-want +got):\n%s", tc.code, diff)
			}
		})
	}
}

func TestIsZone(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"150172", true},  // 呼和浩特经济技术开发区
		{"150271", true},  // 包头稀土高新技术产业开发区
		{"152571", true},  // 乌拉盖管理区管委会
		{"152971", true},  // 阿拉善高新技术产业开发区
		{"150102", false}, // 新城区
		{"150100", false}, // a city
		{"150700", false}, // 呼伦贝尔市: 7 in the city part
		{"157000", false},
		{"150000", false},
		{"150070", false}, // no prefecture part
		{"150172001", false},
		{"15017", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := org.IsZone(tc.code); got != tc.want {
			t.Errorf("IsZone(%q) = %v, want %v", tc.code, got, tc.want)
		}
	}
}

// levelRank orders the levels from the top.
var levelRank = map[org.Level]int{org.Province: 1, org.City: 2, org.County: 3, org.Township: 4}

func FuzzParseRegionCode(f *testing.F) {
	for _, s := range []string{
		"150000", "150100", "150102", "150172", "152921", "150102001", "150102001000", "110101",
		"441900003", "", "15", "000000", "15010a", "150102000", "150102001001", "１５０１００",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		norm, level, parent, err := org.ParseRegionCode(code)
		if err != nil {
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("ParseRegionCode(%q) error kind = %v, want Invalid", code, errs.KindOf(err))
			}
			if norm != "" || level != "" || parent != "" {
				t.Fatalf("ParseRegionCode(%q) returned %q, %q, %q with an error", code, norm, level, parent)
			}
			return
		}
		if norm != code && !(len(code) == 12 && strings.HasSuffix(code, "000") && norm == code[:9]) {
			t.Fatalf("ParseRegionCode(%q) normalised to %q", code, norm)
		}
		n2, l2, p2, err := org.ParseRegionCode(norm)
		if err != nil || n2 != norm || l2 != level || p2 != parent {
			t.Fatalf("ParseRegionCode(%q) = %q, %q, %q, %v; want it to re-parse to %q, %q, %q", norm, n2, l2, p2, err, norm, level, parent)
		}
		if (len(norm) == 9) != (level == org.Township) {
			t.Fatalf("ParseRegionCode(%q): level %q for a %d-digit code", code, level, len(norm))
		}
		if level == org.Province {
			if parent != "" {
				t.Fatalf("ParseRegionCode(%q): province with parent %q", code, parent)
			}
			return
		}
		pn, pl, _, err := org.ParseRegionCode(parent)
		if err != nil || pn != parent {
			t.Fatalf("ParseRegionCode(%q): parent %q does not parse: %v", code, parent, err)
		}
		if !authz.RegionWithin(norm, parent) || norm == parent {
			t.Fatalf("ParseRegionCode(%q): %q does not lie within its parent %q", code, norm, parent)
		}
		// The parent is exactly one level up; a township may also sit
		// directly under a city that has no counties (东莞 441900).
		up := levelRank[level] - levelRank[pl]
		if up != 1 && !(level == org.Township && pl == org.City) {
			t.Fatalf("ParseRegionCode(%q): %s %q has parent %q at level %s", code, level, norm, parent, pl)
		}
	})
}

func TestDeptInputCheck(t *testing.T) {
	valid := func() org.DeptInput {
		return org.DeptInput{Name: "市场监督管理局", ShortName: "市监局", USCC: validUSCC, Region: "150100", Phone: "0471-1234567", Address: "呼和浩特市新城区", Sort: 1}
	}
	with := func(f func(*org.DeptInput)) org.DeptInput {
		in := valid()
		f(&in)
		return in
	}
	tests := []struct {
		name   string
		in     org.DeptInput
		fields []string       // nil: valid
		want   *org.DeptInput // the input after Check, when valid
	}{
		{name: "valid", in: valid()},
		{name: "trimmed and upper-cased",
			in:   org.DeptInput{Name: " 市场监督管理局 ", ShortName: " 市监局\t", USCC: " " + strings.ToLower(validUSCC) + " ", Region: " 150100 ", Phone: " 12345 ", Address: " 地址 "},
			want: &org.DeptInput{Name: "市场监督管理局", ShortName: "市监局", USCC: validUSCC, Region: "150100", Phone: "12345", Address: "地址"}},
		{name: "no uscc", in: with(func(in *org.DeptInput) { in.USCC = "" })},
		{name: "township", in: with(func(in *org.DeptInput) { in.Region = "150102001" })},
		{name: "name two chars", in: with(func(in *org.DeptInput) { in.Name = "税务" })},
		{name: "name 100 chars", in: with(func(in *org.DeptInput) { in.Name = strings.Repeat("局", 100) })},
		{name: "sort bounds", in: with(func(in *org.DeptInput) { in.Sort = 100000 })},

		{name: "name empty", in: with(func(in *org.DeptInput) { in.Name = "  " }), fields: []string{"name"}},
		{name: "name one char", in: with(func(in *org.DeptInput) { in.Name = "局" }), fields: []string{"name"}},
		{name: "name 101 chars", in: with(func(in *org.DeptInput) { in.Name = strings.Repeat("局", 101) }), fields: []string{"name"}},
		{name: "name invalid utf-8", in: with(func(in *org.DeptInput) { in.Name = "局\xff局" }), fields: []string{"name"}},
		{name: "short name too long", in: with(func(in *org.DeptInput) { in.ShortName = strings.Repeat("简", 31) }), fields: []string{"short_name"}},
		{name: "phone too long", in: with(func(in *org.DeptInput) { in.Phone = strings.Repeat("1", 41) }), fields: []string{"phone"}},
		{name: "address too long", in: with(func(in *org.DeptInput) { in.Address = strings.Repeat("路", 201) }), fields: []string{"address"}},
		{name: "uscc check char", in: with(func(in *org.DeptInput) { in.USCC = validUSCC[:17] + "X" }), fields: []string{"uscc"}},
		{name: "uscc short", in: with(func(in *org.DeptInput) { in.USCC = validUSCC[:17] }), fields: []string{"uscc"}},
		{name: "uscc bad char", in: with(func(in *org.DeptInput) { in.USCC = "91350100M000100O43" }), fields: []string{"uscc"}},
		{name: "region empty", in: with(func(in *org.DeptInput) { in.Region = "" }), fields: []string{"region"}},
		{name: "region malformed", in: with(func(in *org.DeptInput) { in.Region = "15010" }), fields: []string{"region"}},
		{name: "sort negative", in: with(func(in *org.DeptInput) { in.Sort = -1 }), fields: []string{"sort"}},
		{name: "sort too big", in: with(func(in *org.DeptInput) { in.Sort = 100001 }), fields: []string{"sort"}},
		{name: "every field at once", in: org.DeptInput{Name: "局", ShortName: strings.Repeat("简", 31), USCC: "123", Region: "x",
			Phone: strings.Repeat("1", 41), Address: strings.Repeat("路", 201), Sort: -1},
			fields: []string{"address", "name", "phone", "region", "short_name", "sort", "uscc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			err := in.Check()
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("Check(%+v): %v", tc.in, err)
				}
				if tc.want != nil {
					if diff := cmp.Diff(*tc.want, in); diff != "" {
						t.Errorf("Check(%+v) left the input (-want +got):\n%s", tc.in, diff)
					}
				}
				return
			}
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("Check(%+v) = %v, want kind Invalid", tc.in, err)
			}
			if diff := cmp.Diff(tc.fields, fieldKeys(err)); diff != "" {
				t.Errorf("Check(%+v) fields mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestHallInputCheck(t *testing.T) {
	valid := func() org.HallInput {
		return org.HallInput{Name: "呼和浩特市政务服务中心", Region: "150100", Address: "新华东街", Phone: "12345", Hours: "周一至周五"}
	}
	with := func(f func(*org.HallInput)) org.HallInput {
		in := valid()
		f(&in)
		return in
	}
	tests := []struct {
		name   string
		in     org.HallInput
		fields []string
	}{
		{name: "valid", in: valid()},
		{name: "minimal", in: org.HallInput{Name: "大厅", Region: "150102001"}},
		{name: "name empty", in: with(func(in *org.HallInput) { in.Name = "" }), fields: []string{"name"}},
		{name: "name one char", in: with(func(in *org.HallInput) { in.Name = " 厅 " }), fields: []string{"name"}},
		{name: "name too long", in: with(func(in *org.HallInput) { in.Name = strings.Repeat("厅", 101) }), fields: []string{"name"}},
		{name: "address too long", in: with(func(in *org.HallInput) { in.Address = strings.Repeat("路", 201) }), fields: []string{"address"}},
		{name: "phone too long", in: with(func(in *org.HallInput) { in.Phone = strings.Repeat("1", 41) }), fields: []string{"phone"}},
		{name: "hours too long", in: with(func(in *org.HallInput) { in.Hours = strings.Repeat("时", 201) }), fields: []string{"hours"}},
		{name: "region empty", in: with(func(in *org.HallInput) { in.Region = "" }), fields: []string{"region"}},
		{name: "region malformed", in: with(func(in *org.HallInput) { in.Region = "abcdef" }), fields: []string{"region"}},
		{name: "every field at once", in: org.HallInput{Name: "厅", Region: "1", Address: strings.Repeat("路", 201), Phone: strings.Repeat("1", 41), Hours: strings.Repeat("时", 201)},
			fields: []string{"address", "hours", "name", "phone", "region"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			err := in.Check()
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("Check(%+v): %v", tc.in, err)
				}
				return
			}
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("Check(%+v) = %v, want kind Invalid", tc.in, err)
			}
			if diff := cmp.Diff(tc.fields, fieldKeys(err)); diff != "" {
				t.Errorf("Check(%+v) fields mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestWindowInputCheck(t *testing.T) {
	tests := []struct {
		name   string
		in     org.WindowInput
		fields []string
	}{
		{name: "comprehensive", in: org.WindowInput{Number: "A01", Name: "综合受理1号窗口", Kind: org.Comprehensive}},
		{name: "specialized", in: org.WindowInput{Number: "B01", Name: "公安窗口", Kind: org.Specialized, DeptID: "d1"}},
		{name: "every other kind", in: org.WindowInput{Number: "C01", Name: "出件窗口", Kind: org.Pickup}},
		{name: "consult", in: org.WindowInput{Number: "C02", Name: "咨询导办", Kind: org.Consult}},
		{name: "help", in: org.WindowInput{Number: "C03", Name: "办不成事", Kind: org.Help}},
		{name: "number 20 chars", in: org.WindowInput{Number: strings.Repeat("9", 20), Name: "窗口", Kind: org.Consult}},

		{name: "number empty", in: org.WindowInput{Number: " ", Name: "综合窗口", Kind: org.Comprehensive}, fields: []string{"number"}},
		{name: "number too long", in: org.WindowInput{Number: strings.Repeat("9", 21), Name: "综合窗口", Kind: org.Comprehensive}, fields: []string{"number"}},
		{name: "name one char", in: org.WindowInput{Number: "A01", Name: "窗", Kind: org.Comprehensive}, fields: []string{"name"}},
		{name: "name too long", in: org.WindowInput{Number: "A01", Name: strings.Repeat("窗", 61), Kind: org.Comprehensive}, fields: []string{"name"}},
		{name: "kind empty", in: org.WindowInput{Number: "A01", Name: "综合窗口"}, fields: []string{"kind"}},
		{name: "kind unknown", in: org.WindowInput{Number: "A01", Name: "综合窗口", Kind: "vip"}, fields: []string{"kind"}},
		{name: "specialized without dept", in: org.WindowInput{Number: "B01", Name: "公安窗口", Kind: org.Specialized}, fields: []string{"dept_id"}},
		{name: "specialized with blank dept", in: org.WindowInput{Number: "B01", Name: "公安窗口", Kind: org.Specialized, DeptID: "  "}, fields: []string{"dept_id"}},
		{name: "every field at once", in: org.WindowInput{Name: "窗", Kind: "x"}, fields: []string{"kind", "name", "number"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			err := in.Check()
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("Check(%+v): %v", tc.in, err)
				}
				return
			}
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("Check(%+v) = %v, want kind Invalid", tc.in, err)
			}
			if diff := cmp.Diff(tc.fields, fieldKeys(err)); diff != "" {
				t.Errorf("Check(%+v) fields mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

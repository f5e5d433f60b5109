package idcode

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"yiwang/internal/platform/errs"
)

// cst is China Standard Time; now is shortly after midnight there, when the
// UTC calendar date is still the day before.
var (
	cst = time.FixedZone("CST", 8*3600)
	now = time.Date(2024, time.January, 1, 1, 0, 0, 0, cst)
)

// wantInvalid asserts err is an *errs.Error of Kind Invalid with the given op and msg.
func wantInvalid(t *testing.T, err error, op, msg string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not *errs.Error", err, err)
	}
	if e.Kind != errs.Invalid {
		t.Errorf("Kind = %v, want Invalid", e.Kind)
	}
	if e.Op != op {
		t.Errorf("Op = %q, want %q", e.Op, op)
	}
	if e.Msg != msg {
		t.Errorf("Msg = %q, want %q", e.Msg, msg)
	}
	if !utf8.ValidString(e.Msg) {
		t.Errorf("Msg is not valid UTF-8: %q", e.Msg)
	}
}

func TestParseIDNumberValid(t *testing.T) {
	tests := []struct {
		in     string
		region string
		birth  string
		male   bool
	}{
		{"11010519491231002X", "110105", "1949-12-31", false},
		{"11010519491231002x", "110105", "1949-12-31", false}, // lower-case x
		{"110105194912310011", "110105", "1949-12-31", true},
		{"440304200002291236", "440304", "2000-02-29", true}, // leap day
		{"11010519000101001X", "110105", "1900-01-01", true}, // earliest date
		{"110105202401010014", "110105", "2024-01-01", true}, // today in CST, though still 2023-12-31 in UTC
		{"110105200002281117", "110105", "2000-02-28", true},
	}
	for _, tt := range tests {
		p, err := ParseIDNumber(tt.in, now)
		if err != nil {
			t.Errorf("ParseIDNumber(%q) error: %v", tt.in, err)
			continue
		}
		if p.Region != tt.region || p.Birth.Format(time.DateOnly) != tt.birth || p.Male != tt.male {
			t.Errorf("ParseIDNumber(%q) = %+v, want region %s birth %s male %v", tt.in, p, tt.region, tt.birth, tt.male)
		}
		if p.Birth.Location() != time.UTC || p.Birth.Hour() != 0 {
			t.Errorf("ParseIDNumber(%q).Birth = %v, want midnight UTC", tt.in, p.Birth)
		}
	}
}

func TestParseIDNumberInvalid(t *testing.T) {
	const op = "idcode.ParseIDNumber"
	tests := []struct {
		in, msg string
	}{
		{"", "公民身份号码应为18位"},
		{"11010519491231002", "公民身份号码应为18位"},
		{"11010519491231002X1", "公民身份号码应为18位"},
		{"110105194912310", "公民身份号码应为18位"}, // old 15-digit numbers are not accepted
		{strings.Repeat("1", 10000), "公民身份号码应为18位"},
		{"11010519491231002Y", "公民身份号码含非法字符“Y”"},
		{"1101051949123100２X", "公民身份号码含非法字符“２”"}, // full-width digit
		{"11010519491231002\xff", "公民身份号码含非法字符（无效编码）"},
		{"110105 9491231002X", "公民身份号码含非法字符（空格）"},
		{"11010519491231002\x00", "公民身份号码含非法字符（U+0000）"},
		{"1101051949123100XX", "公民身份号码只有最后一位可以是X"},
		{"000105194912310024", "公民身份号码地址码无效"},
		{"110105194913010029", "公民身份号码出生日期无效"},             // month 13
		{"110105190002290017", "公民身份号码出生日期无效"},             // 1900 is not a leap year
		{"110105194900000000", "公民身份号码出生日期无效"},             // month 0
		{"110105194902300000", "公民身份号码出生日期无效"},             // 30 Feb
		{"110105189912310015", "公民身份号码出生日期无效：早于1900年1月1日"}, // before 1900
		{"11010520240102001X", "公民身份号码出生日期无效：晚于今天"},        // tomorrow
		{"110105194912310021", "公民身份号码校验位错误"},
		{"110105194912310012", "公民身份号码校验位错误"},
	}
	for _, tt := range tests {
		p, err := ParseIDNumber(tt.in, now)
		if err == nil {
			t.Errorf("ParseIDNumber(%q) = %+v, want error %q", tt.in, p, tt.msg)
			continue
		}
		t.Run(tt.msg, func(t *testing.T) { wantInvalid(t, err, op, tt.msg) })
	}
}

func TestIDCheckChar(t *testing.T) {
	for in, want := range map[string]byte{
		"11010519491231002": 'X',
		"11010519491231001": '1',
		"44030420000229123": '6',
	} {
		got, err := IDCheckChar(in)
		if err != nil || got != want {
			t.Errorf("IDCheckChar(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1101051949123100", "110105194912310021", "1101051949123100X", "1101051949123100０"} {
		_, err := IDCheckChar(in)
		wantInvalid(t, err, "idcode.IDCheckChar", "公民身份号码本体码应为17位数字")
	}
}

func TestValidateUSCC(t *testing.T) {
	for _, in := range []string{
		"91350100M000100Y43",
		"91350100MA00000230", // Σ mod 31 = 0: the "31 → 0" case
		"91110000600037341L",
	} {
		if err := ValidateUSCC(in); err != nil {
			t.Errorf("ValidateUSCC(%q) = %v", in, err)
		}
	}

	const op = "idcode.ValidateUSCC"
	tests := []struct {
		in, msg string
	}{
		{"", "统一社会信用代码应为18位"},
		{"91350100M000100Y4", "统一社会信用代码应为18位"},
		{"91350100M000100Y433", "统一社会信用代码应为18位"},
		{strings.Repeat("9", 1<<16), "统一社会信用代码应为18位"},
		{"91350100M000100I43", "统一社会信用代码含非法字符“I”"},
		{"91350100O000100Y43", "统一社会信用代码含非法字符“O”"},
		{"91350100S000100Y43", "统一社会信用代码含非法字符“S”"},
		{"91350100V000100Y43", "统一社会信用代码含非法字符“V”"},
		{"91350100Z000100Y43", "统一社会信用代码含非法字符“Z”"},
		{"91350100m000100y43", "统一社会信用代码中的字母应为大写"},
		{"91350100m000100i43", "统一社会信用代码含非法字符“i”"},
		{"9135010０M000100Y43", "统一社会信用代码含非法字符“０”"},
		{"91350100M000100Y4\xc3", "统一社会信用代码含非法字符（无效编码）"},
		{"91350100M000100Y4-", "统一社会信用代码含非法字符“-”"},
		{"9135A100M000100Y43", "统一社会信用代码第3至8位（登记管理机关行政区划码）应为数字"},
		{"91350100M000100Y44", "统一社会信用代码校验位错误"},
		{"91350100M000100Y34", "统一社会信用代码校验位错误"}, // transposition
		{"91350100MA00000231", "统一社会信用代码校验位错误"},
	}
	for _, tt := range tests {
		err := ValidateUSCC(tt.in)
		if err == nil {
			t.Errorf("ValidateUSCC(%q) = nil, want %q", tt.in, tt.msg)
			continue
		}
		t.Run(tt.msg, func(t *testing.T) { wantInvalid(t, err, op, tt.msg) })
	}
}

func TestUSCCCheckChar(t *testing.T) {
	for in, want := range map[string]byte{
		"91350100M000100Y4": '3',
		"91350100MA0000023": '0', // 31 → 0
		"91110000600037341": 'L',
	} {
		got, err := USCCCheckChar(in)
		if err != nil || got != want {
			t.Errorf("USCCCheckChar(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "91350100M000100Y", "91350100M000100Y43", "91350100M000100I4", "91350100m000100Y4"} {
		_, err := USCCCheckChar(in)
		wantInvalid(t, err, "idcode.USCCCheckChar", "统一社会信用代码前17位应为17个合法字符")
	}
}

// TestUSCCCheckCharAll checks the mapping back through the charset for every
// possible remainder, including 0 (the "31 → 0" case).
func TestUSCCCheckCharAll(t *testing.T) {
	seen := map[byte]bool{}
	for i := 0; i < len(usccChars); i++ {
		first17 := "9135010000000000" + string(usccChars[i])
		c, err := USCCCheckChar(first17)
		if err != nil {
			t.Fatal(err)
		}
		seen[c] = true
		if err := ValidateUSCC(first17 + string(c)); err != nil {
			t.Errorf("ValidateUSCC(%q) = %v", first17+string(c), err)
		}
	}
	// Weight 28 is coprime to 31, so the last char alone reaches every check value.
	if len(seen) != 31 {
		t.Errorf("check chars cover %d values, want 31", len(seen))
	}
}

func TestNewUSCC(t *testing.T) {
	tests := []struct {
		dept, category byte
		region, body   string
		want           string
	}{
		{'9', '1', "350100", "M000100Y", "91350100M000100Y43"},
		{'9', '1', "350100", "MA000002", "91350100MA00000230"}, // 31 → 0
		{'9', '1', "110000", "60003734", "91110000600037341L"},
		{'Y', '1', "110000", "00000006", ""}, // org check char 'X'
		{'1', '2', "110000", "00000000", ""}, // org check char '0' (11 → 0)
		{'N', '2', "440300", "MA5FXY12", ""},
	}
	for _, tt := range tests {
		got, err := NewUSCC(tt.dept, tt.category, tt.region, tt.body)
		if err != nil {
			t.Errorf("NewUSCC(%c, %c, %q, %q) error: %v", tt.dept, tt.category, tt.region, tt.body, err)
			continue
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("NewUSCC(%c, %c, %q, %q) = %q, want %q", tt.dept, tt.category, tt.region, tt.body, got, tt.want)
		}
		if err := ValidateUSCC(got); err != nil {
			t.Errorf("ValidateUSCC(NewUSCC(...) = %q) = %v", got, err)
		}
		if err := ValidateOrgCode(got[8:17]); err != nil {
			t.Errorf("ValidateOrgCode(%q) from %q = %v", got[8:17], got, err)
		}
		if got[:2] != string([]byte{tt.dept, tt.category}) || got[2:8] != tt.region || got[8:16] != tt.body {
			t.Errorf("NewUSCC parts misplaced: %q", got)
		}
	}

	const op = "idcode.NewUSCC"
	bad := []struct {
		dept, category byte
		region, body   string
		msg            string
	}{
		{'I', '1', "350100", "M000100Y", "统一社会信用代码登记管理部门代码无效"},
		{0, '1', "350100", "M000100Y", "统一社会信用代码登记管理部门代码无效"},
		{'9', 'z', "350100", "M000100Y", "统一社会信用代码机构类别代码无效"},
		{'9', '1', "35010", "M000100Y", "统一社会信用代码行政区划码应为6位数字"},
		{'9', '1', "35010A", "M000100Y", "统一社会信用代码行政区划码应为6位数字"},
		{'9', '1', "３50100", "M000100Y", "统一社会信用代码行政区划码应为6位数字"},
		{'9', '1', "350100", "M000100", "组织机构代码本体应为8位"},
		{'9', '1', "350100", "M000100Y4", "组织机构代码本体应为8位"},
		{'9', '1', "350100", "M000100S", "组织机构代码本体含统一社会信用代码不允许的字符"},
		{'9', '1', "350100", "m000100Y", "组织机构代码本体含统一社会信用代码不允许的字符"},
	}
	for _, tt := range bad {
		got, err := NewUSCC(tt.dept, tt.category, tt.region, tt.body)
		if err == nil {
			t.Errorf("NewUSCC(%q, %q, %q, %q) = %q, want error %q", tt.dept, tt.category, tt.region, tt.body, got, tt.msg)
			continue
		}
		wantInvalid(t, err, op, tt.msg)
	}
}

func TestOrgCheckChar(t *testing.T) {
	for in, want := range map[string]byte{
		"M000100Y": '4',
		"00000006": 'X', // 10 → X
		"00000000": '0', // 11 → 0
		"00000019": '0',
		"60003734": '1',
	} {
		got, err := OrgCheckChar(in)
		if err != nil || got != want {
			t.Errorf("OrgCheckChar(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M000100", "M000100Y4", "m000100Y", "M000100-", "M00010０Y"} {
		_, err := OrgCheckChar(in)
		wantInvalid(t, err, "idcode.OrgCheckChar", "组织机构代码本体应为8位数字或大写字母")
	}
}

func TestValidateOrgCode(t *testing.T) {
	for _, in := range []string{"M000100Y4", "M000100Y-4", "00000006X", "00000006-X", "000000000", "60003734-1"} {
		if err := ValidateOrgCode(in); err != nil {
			t.Errorf("ValidateOrgCode(%q) = %v", in, err)
		}
	}

	const op = "idcode.ValidateOrgCode"
	tests := []struct {
		in, msg string
	}{
		{"", "组织机构代码应为9位（可写作“XXXXXXXX-X”）"},
		{"M000100Y", "组织机构代码应为9位（可写作“XXXXXXXX-X”）"},
		{"M000100Y-", "组织机构代码含非法字符“-”"},
		{"M000100Y44", "组织机构代码应为9位（可写作“XXXXXXXX-X”）"},
		{"M000100Y--4", "组织机构代码应为9位（可写作“XXXXXXXX-X”）"},
		{strings.Repeat("M", 100000), "组织机构代码应为9位（可写作“XXXXXXXX-X”）"},
		{"M00010-0Y4", "组织机构代码的连字符应在第8位之后"},
		{"M000100-Y4", "组织机构代码的连字符应在第8位之后"},
		{"M00010-Y-4", "组织机构代码含非法字符“-”"},
		{"m000100y4", "组织机构代码中的字母应为大写"},
		{"m000100y-4", "组织机构代码中的字母应为大写"},
		{"00000006x", "组织机构代码中的字母应为大写"},
		{"M000100Y_4", "组织机构代码含非法字符“_”"},
		{"M000100Y—4", "组织机构代码含非法字符“—”"}, // em dash: 10 runes, not ASCII
		{"M00010０Y4", "组织机构代码含非法字符“０”"},
		{"M000100Y\x80", "组织机构代码含非法字符（无效编码）"},
		{"M000100Y5", "组织机构代码校验位错误"},
		{"M000100Y-5", "组织机构代码校验位错误"},
		{"00000006-0", "组织机构代码校验位错误"},
	}
	for _, tt := range tests {
		err := ValidateOrgCode(tt.in)
		if err == nil {
			t.Errorf("ValidateOrgCode(%q) = nil, want %q", tt.in, tt.msg)
			continue
		}
		t.Run(tt.msg, func(t *testing.T) { wantInvalid(t, err, op, tt.msg) })
	}
}

func TestErrorsAreInvalid(t *testing.T) {
	_, err := ParseIDNumber("x", now)
	if errs.KindOf(err) != errs.Invalid {
		t.Errorf("KindOf = %v, want Invalid", errs.KindOf(err))
	}
}

func FuzzParseIDNumber(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "11010519491231002x", "110105194912310011",
		"440304200002291236", "110105190002290017", "000105194912310024",
		"", "\xff", "一二三四五六七八九十一二三四五六七八",
	} {
		f.Add(s, int64(1704042000))
	}
	f.Fuzz(func(t *testing.T, s string, unix int64) {
		n := time.Unix(unix, 0).In(cst)
		p, err := ParseIDNumber(s, n)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || !utf8.ValidString(e.Msg) || e.Msg == "" {
				t.Fatalf("ParseIDNumber(%q) bad error %#v", s, err)
			}
			return
		}
		if len(s) != 18 {
			t.Fatalf("accepted %q of %d bytes", s, len(s))
		}
		c, err := IDCheckChar(s[:17])
		if err != nil {
			t.Fatalf("accepted %q but IDCheckChar: %v", s, err)
		}
		if last := strings.ToUpper(s[17:]); last != string(c) {
			t.Fatalf("accepted %q but check char is %c", s, c)
		}
		if p.Region != s[:6] || p.Birth.Format("20060102") != s[6:14] || p.Male != ((s[16]-'0')%2 == 1) {
			t.Fatalf("ParseIDNumber(%q) = %+v", s, p)
		}
		if p.Birth.Year() < 1900 || p.Birth.After(n) {
			t.Fatalf("ParseIDNumber(%q, %v) birth out of range: %v", s, n, p.Birth)
		}
		if _, err := ParseIDNumber(strings.ToUpper(s), n); err != nil {
			t.Fatalf("upper-cased %q rejected: %v", s, err)
		}
	})
}

func FuzzValidateUSCC(f *testing.F) {
	for _, s := range []string{
		"91350100M000100Y43", "91350100MA00000230", "91110000600037341L",
		"91350100M000100I43", "91350100m000100y43", "", "\xc3", "统一社会信用代码统一社会信用代码统一",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateUSCC(s)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || !utf8.ValidString(e.Msg) || e.Msg == "" {
				t.Fatalf("ValidateUSCC(%q) bad error %#v", s, err)
			}
			return
		}
		if len(s) != 18 {
			t.Fatalf("accepted %q of %d bytes", s, len(s))
		}
		c, err := USCCCheckChar(s[:17])
		if err != nil || c != s[17] {
			t.Fatalf("accepted %q but USCCCheckChar = %q, %v", s, c, err)
		}
		// Rebuilding from the parts gives the same code when the embedded
		// organisation code is itself valid.
		if ValidateOrgCode(s[8:17]) == nil {
			got, err := NewUSCC(s[0], s[1], s[2:8], s[8:16])
			if err != nil || got != s {
				t.Fatalf("NewUSCC from parts of %q = %q, %v", s, got, err)
			}
		}
	})
}

func FuzzValidateOrgCode(f *testing.F) {
	for _, s := range []string{
		"M000100Y4", "M000100Y-4", "00000006X", "000000000", "M000100-Y4",
		"m000100y4", "", "\x80", "组织机构代码组织机构代码",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateOrgCode(s)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || !utf8.ValidString(e.Msg) || e.Msg == "" {
				t.Fatalf("ValidateOrgCode(%q) bad error %#v", s, err)
			}
			return
		}
		compact := s
		if len(s) == 10 && s[8] == '-' {
			compact = s[:8] + s[9:]
		}
		if len(compact) != 9 {
			t.Fatalf("accepted %q", s)
		}
		c, err := OrgCheckChar(compact[:8])
		if err != nil || c != compact[8] {
			t.Fatalf("accepted %q but OrgCheckChar = %q, %v", s, c, err)
		}
		if other := compact[:8] + "-" + compact[8:]; ValidateOrgCode(other) != nil || ValidateOrgCode(compact) != nil {
			t.Fatalf("accepted %q but not both of its forms", s)
		}
	})
}

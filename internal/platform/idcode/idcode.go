package idcode

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"yiwang/internal/platform/errs"
)

func invalid(op, msg string) error {
	return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg}
}

// quoteRune renders r for an error message: “r” when printable, otherwise a
// neutral description, so that messages never carry invalid UTF-8 or control
// characters.
func quoteRune(r rune, size int) string {
	switch {
	case r == utf8.RuneError && size <= 1:
		return "（无效编码）"
	case r == ' ' || r == '\u3000':
		return "（空格）"
	case !unicode.IsPrint(r):
		return fmt.Sprintf("（%U）", r)
	default:
		return "“" + string(r) + "”"
	}
}

// firstBad returns a description of the first rune of s for which ok is false.
func firstBad(s string, ok func(rune) bool) (string, bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size <= 1) || !ok(r) {
			return quoteRune(r, size), true
		}
		i += size
	}
	return "", false
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// ---------------------------------------------------------------------------
// 公民身份号码 GB 11643-1999

// Person holds what an ID number says about its holder (公民身份号码所载信息):
// Region is the 6-digit address code, Birth the date of birth at midnight UTC,
// Male whether the sequence code is odd.
type Person struct {
	Region string
	Birth  time.Time
	Male   bool
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

var earliestBirth = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)

// idCheck computes the check char of 17 ASCII digits; ok is false otherwise.
func idCheck(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11], true
}

// IDCheckChar returns the check char ('0'–'9' or 'X') of a 公民身份号码
// (GB 11643-1999) from its first 17 digits.
func IDCheckChar(first17 string) (byte, error) {
	c, ok := idCheck(first17)
	if !ok {
		return 0, invalid("idcode.IDCheckChar", "公民身份号码本体码应为17位数字")
	}
	return c, nil
}

// ParseIDNumber validates an 18-character 公民身份号码 (GB 11643-1999) and
// returns what it says about its holder. A lower-case 'x' check char is
// accepted as 'X'. The birth date must be a real calendar date between
// 1900-01-01 and the calendar date of now (in now's location). Address codes
// are not looked up: any six digits not starting with "00" are accepted.
func ParseIDNumber(s string, now time.Time) (Person, error) {
	const op = "idcode.ParseIDNumber"
	if utf8.RuneCountInString(s) != 18 {
		return Person{}, invalid(op, "公民身份号码应为18位")
	}
	if bad, found := firstBad(s, func(r rune) bool { return isDigit(r) || r == 'X' || r == 'x' }); found {
		return Person{}, invalid(op, "公民身份号码含非法字符"+bad)
	}
	// Only ASCII remains, so len(s) == 18.
	for i := 0; i < 17; i++ {
		if !isDigit(rune(s[i])) {
			return Person{}, invalid(op, "公民身份号码只有最后一位可以是X")
		}
	}
	if s[0] == '0' && s[1] == '0' {
		return Person{}, invalid(op, "公民身份号码地址码无效")
	}

	year := atoi(s[6:10])
	month := atoi(s[10:12])
	day := atoi(s[12:14])
	birth := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if month < 1 || month > 12 || day < 1 || birth.Day() != day || birth.Month() != time.Month(month) {
		return Person{}, invalid(op, "公民身份号码出生日期无效")
	}
	if birth.Before(earliestBirth) {
		return Person{}, invalid(op, "公民身份号码出生日期无效：早于1900年1月1日")
	}
	ny, nm, nd := now.Date()
	if birth.After(time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)) {
		return Person{}, invalid(op, "公民身份号码出生日期无效：晚于今天")
	}

	want, _ := idCheck(s[:17])
	got := s[17]
	if got == 'x' {
		got = 'X'
	}
	if got != want {
		return Person{}, invalid(op, "公民身份号码校验位错误")
	}
	return Person{
		Region: s[:6],
		Birth:  birth,
		Male:   (s[16]-'0')%2 == 1,
	}, nil
}

// atoi parses a short run of ASCII digits already checked by the caller.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// ---------------------------------------------------------------------------
// 统一社会信用代码 GB 32100-2015

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccValue returns the value 0–30 of c in the USCC charset, or -1.
func usccValue(c byte) int {
	for i := 0; i < len(usccChars); i++ {
		if usccChars[i] == c {
			return i
		}
	}
	return -1
}

func isUSCCChar(r rune) bool { return r < utf8.RuneSelf && usccValue(byte(r)) >= 0 }

// usccCheck computes C18 from 17 charset chars; ok is false otherwise.
func usccCheck(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := usccValue(first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * usccWeights[i]
	}
	return usccChars[(31-sum%31)%31], true
}

// charsetError describes the first char of s that ok rejects, for a message
// about the code called name. When every rejected char is a lower-case letter
// whose upper case ok accepts, it asks for upper case instead.
func charsetError(name, s string, ok func(rune) bool) (string, bool) {
	lowerSlip := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r != utf8.RuneError && ok(r) {
			continue
		}
		if r >= 'a' && r <= 'z' && ok(unicode.ToUpper(r)) {
			lowerSlip = true
			continue
		}
		return name + "含非法字符" + quoteRune(r, size), true
	}
	if lowerSlip {
		return name + "中的字母应为大写", true
	}
	return "", false
}

// USCCCheckChar returns the check char (C18) of a 统一社会信用代码
// (GB 32100-2015) from its first 17 chars, which must come from the charset
// 0–9 and A–Y without I, O, S, V, Z.
func USCCCheckChar(first17 string) (byte, error) {
	c, ok := usccCheck(first17)
	if !ok {
		return 0, invalid("idcode.USCCCheckChar", "统一社会信用代码前17位应为17个合法字符")
	}
	return c, nil
}

// ValidateUSCC checks an 18-character 统一社会信用代码 (GB 32100-2015):
// charset, a 6-digit region code in positions 3–8, and the check char.
// Department and category codes are not looked up, and the embedded
// organisation code's own check char is not verified (the C18 check already
// catches any single-character error).
func ValidateUSCC(s string) error {
	const op = "idcode.ValidateUSCC"
	if utf8.RuneCountInString(s) != 18 {
		return invalid(op, "统一社会信用代码应为18位")
	}
	if msg, found := charsetError("统一社会信用代码", s, isUSCCChar); found {
		return invalid(op, msg)
	}
	for i := 2; i < 8; i++ {
		if !isDigit(rune(s[i])) {
			return invalid(op, "统一社会信用代码第3至8位（登记管理机关行政区划码）应为数字")
		}
	}
	if want, _ := usccCheck(s[:17]); s[17] != want {
		return invalid(op, "统一社会信用代码校验位错误")
	}
	return nil
}

// NewUSCC builds a valid 统一社会信用代码 (GB 32100-2015) from its parts: dept and category chars, 6-digit region, 8-char org body (the org check char is computed).
// All chars must come from the USCC charset.
func NewUSCC(dept, category byte, region, orgBody string) (string, error) {
	const op = "idcode.NewUSCC"
	if usccValue(dept) < 0 {
		return "", invalid(op, "统一社会信用代码登记管理部门代码无效")
	}
	if usccValue(category) < 0 {
		return "", invalid(op, "统一社会信用代码机构类别代码无效")
	}
	if len(region) != 6 {
		return "", invalid(op, "统一社会信用代码行政区划码应为6位数字")
	}
	for i := 0; i < 6; i++ {
		if !isDigit(rune(region[i])) {
			return "", invalid(op, "统一社会信用代码行政区划码应为6位数字")
		}
	}
	if len(orgBody) != 8 {
		return "", invalid(op, "组织机构代码本体应为8位")
	}
	for i := 0; i < 8; i++ {
		if usccValue(orgBody[i]) < 0 {
			return "", invalid(op, "组织机构代码本体含统一社会信用代码不允许的字符")
		}
	}
	orgCheck, ok := orgCheckChar(orgBody)
	if !ok {
		return "", invalid(op, "组织机构代码本体无效")
	}
	first17 := string([]byte{dept, category}) + region + orgBody + string(orgCheck)
	c, ok := usccCheck(first17)
	if !ok {
		return "", invalid(op, "统一社会信用代码无效")
	}
	return first17 + string(c), nil
}

// ---------------------------------------------------------------------------
// 组织机构代码 GB 11714-1997

var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// orgValue returns 0–9 for digits and 10–35 for A–Z, or -1.
func orgValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

func isOrgBodyChar(r rune) bool { return r < utf8.RuneSelf && orgValue(byte(r)) >= 0 }

func orgCheckChar(body string) (byte, bool) {
	if len(body) != 8 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		v := orgValue(body[i])
		if v < 0 {
			return 0, false
		}
		sum += v * orgWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X', true
	case 11:
		return '0', true
	default:
		return byte('0' + c), true
	}
}

// OrgCheckChar returns the check char ('0'–'9' or 'X') of a 组织机构代码
// (GB 11714-1997) from its 8-char body of digits and upper-case letters.
func OrgCheckChar(body string) (byte, error) {
	c, ok := orgCheckChar(body)
	if !ok {
		return 0, invalid("idcode.OrgCheckChar", "组织机构代码本体应为8位数字或大写字母")
	}
	return c, nil
}

// ValidateOrgCode checks a 组织机构代码 (GB 11714-1997), written either as
// "XXXXXXXX-C" or "XXXXXXXXC": an 8-char body of digits and upper-case
// letters followed by its check char.
func ValidateOrgCode(s string) error {
	const op = "idcode.ValidateOrgCode"
	var body, check string
	switch n := utf8.RuneCountInString(s); {
	case n == 10 && len(s) == 10 && s[8] == '-':
		body, check = s[:8], s[9:]
	case n == 9:
		if len(s) != 9 {
			if msg, found := charsetError("组织机构代码", s, isOrgBodyChar); found {
				return invalid(op, msg)
			}
		}
		body, check = s[:8], s[8:]
	case n == 10 && strings.IndexFunc(s, func(r rune) bool { return !isOrgBodyChar(r) && !(r >= 'a' && r <= 'z') }) >= 0:
		// Ten chars with something besides letters and digits: most likely a
		// misplaced or mistyped separator.
		if msg, found := charsetError("组织机构代码", s, func(r rune) bool { return isOrgBodyChar(r) || r == '-' }); found {
			return invalid(op, msg)
		}
		return invalid(op, "组织机构代码的连字符应在第8位之后")
	default:
		return invalid(op, "组织机构代码应为9位（可写作“XXXXXXXX-X”）")
	}
	if msg, found := charsetError("组织机构代码", body+check, isOrgBodyChar); found {
		return invalid(op, msg)
	}
	want, _ := orgCheckChar(body)
	if check[0] != want {
		return invalid(op, "组织机构代码校验位错误")
	}
	return nil
}

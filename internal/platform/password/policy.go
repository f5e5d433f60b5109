package password

import (
	"crypto/rand"
	"unicode"
	"unicode/utf8"

	"yiwang/internal/platform/errs"
)

const (
	// MinLen is the minimum length of a new password, in runes.
	MinLen = 10
	// MaxLen is the maximum length of a new password, in runes.
	MaxLen = 128
)

// policyMsg is the zh-CN message shown when a new password fails Validate.
const policyMsg = "密码须为10至128位，且包含大写字母、小写字母、数字、符号中的至少三类"

// Validate checks a NEW password against the policy: MinLen to MaxLen runes
// and at least three of four classes — lower-case letter, upper-case letter,
// digit, symbol. Symbols are runes that are neither letters nor digits (so
// punctuation, spaces and emoji count; letters without case, such as Chinese
// characters, count toward the length but toward no class). Invalid UTF-8 and
// control characters are refused. Existing passwords are never re-checked at
// sign-in. On failure it returns *errs.Error with Kind errs.Invalid.
func Validate(plain string) error {
	if ok := validate(plain); !ok {
		return &errs.Error{Kind: errs.Invalid, Op: "password.Validate", Msg: policyMsg}
	}
	return nil
}

func validate(plain string) bool {
	if !utf8.ValidString(plain) {
		return false
	}
	n := utf8.RuneCountInString(plain)
	if n < MinLen || n > MaxLen {
		return false
	}
	var lower, upper, digit, symbol bool
	for _, r := range plain {
		switch {
		case unicode.IsControl(r):
			return false
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		case !unicode.IsLetter(r) && !unicode.IsNumber(r):
			symbol = true
		}
	}
	classes := 0
	for _, c := range [...]bool{lower, upper, digit, symbol} {
		if c {
			classes++
		}
	}
	return classes >= 3
}

// Demo returns a random password that meets the policy, for demo accounts:
// 14 characters from an unambiguous alphabet plus a fixed class mix.
func Demo() string {
	const lower, upper, digits = "abcdefghjkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789"
	b := make([]byte, 12)
	rand.Read(b)
	out := make([]byte, 0, 14)
	for i, c := range b {
		switch i % 3 {
		case 0:
			out = append(out, lower[int(c)%len(lower)])
		case 1:
			out = append(out, upper[int(c)%len(upper)])
		default:
			out = append(out, digits[int(c)%len(digits)])
		}
	}
	return string(out) + "@1"
}

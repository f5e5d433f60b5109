package password

import (
	"errors"
	"strings"
	"testing"

	"yiwang/internal/platform/errs"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		pw string
		ok bool
	}{
		{"Abcdefgh12", true},                      // lower, upper, digit; exactly 10
		{"abcdefgh1!", true},                      // lower, digit, symbol
		{"ABCDEFGH1!", true},                      // upper, digit, symbol
		{"Abcdefgh!!", true},                      // lower, upper, symbol
		{"Abc defg 1", true},                      // space counts as a symbol
		{"密码Abcdef12", true},                      // CJK counts toward length only
		{"Ｐａｓｓｗｏｒｄ１２", true},                      // full-width letters and digits
		{"Abcdefg12", false},                      // 9 runes
		{"abcdefghij", false},                     // one class
		{"abcdefgh12", false},                     // two classes
		{"ABCDEFGH!!", false},                     // two classes
		{"1234567890!", false},                    // two classes
		{"密码密码密码密码密码", false},                     // no class at all
		{"密码密码密码密码a1", false},                     // two classes
		{"", false},                               // empty
		{"Abcdefgh1\x00", false},                  // control character
		{"Abcdefgh1\n", false},                    // control character
		{"Abcdefgh1\xff", false},                  // invalid UTF-8
		{"Aa1" + strings.Repeat("x", 125), true},  // 128 runes
		{"Aa1" + strings.Repeat("x", 126), false}, // 129 runes
		{"Aa1" + strings.Repeat("码", 125), true},  // 128 runes, 378 bytes
	}
	for _, c := range cases {
		err := Validate(c.pw)
		if c.ok {
			if err != nil {
				t.Errorf("Validate(%q) = %v, want nil", c.pw, err)
			}
			continue
		}
		var e *errs.Error
		if !errors.As(err, &e) {
			t.Errorf("Validate(%q) = %v, want *errs.Error", c.pw, err)
			continue
		}
		want := errs.Error{Kind: errs.Invalid, Op: "password.Validate",
			Msg: "密码须为10至128位，且包含大写字母、小写字母、数字、符号中的至少三类"}
		if e.Kind != want.Kind || e.Op != want.Op || e.Msg != want.Msg || e.Fields != nil || e.Err != nil {
			t.Errorf("Validate(%q) = %#v, want %#v", c.pw, e, &want)
		}
	}
}

func TestDemo(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		p := Demo()
		if err := Validate(p); err != nil {
			t.Fatalf("Validate(Demo() = %q) = %v", p, err)
		}
		seen[p] = true
	}
	if len(seen) < 990 {
		t.Errorf("1000 Demo calls gave %d distinct passwords, want them random", len(seen))
	}
}

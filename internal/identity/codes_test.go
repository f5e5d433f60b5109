package identity

import (
	"strings"
	"testing"
	"time"
)

func TestCheckCode(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		kind   CodeKind
		value  string
		valid  bool
		reason string // part of the reason when invalid
	}{
		{IDNumber, "11010519491231002X", true, ""},
		{IDNumber, "11010519491231002x", true, ""},
		{IDNumber, "110105194912310021", false, "校验"},
		{IDNumber, "110105194902300026", false, "出生日期"},
		{IDNumber, "1101051949123100", false, "18位"},
		{USCC, "91350100M000100Y43", true, ""},
		{USCC, "91350100M000100Y44", false, ""},
		{OrgCode, "D2143569-X", true, ""},
		{OrgCode, "D2143569-1", false, ""},
		{OrgCode, "", false, ""},
	} {
		got, err := CheckCode(tc.kind, tc.value, now)
		if err != nil {
			t.Fatalf("%s %q: %v", tc.kind, tc.value, err)
		}
		if got.Valid != tc.valid || (!tc.valid && (got.Reason == "" || !strings.Contains(got.Reason, tc.reason))) || (tc.valid && got.Reason != "") {
			t.Errorf("%s %q = %+v, want valid=%v reason~%q", tc.kind, tc.value, got, tc.valid, tc.reason)
		}
	}
	if _, err := CheckCode("passport", "E12345678", now); err == nil {
		t.Error("unknown kind accepted")
	}
}

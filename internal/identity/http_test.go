package identity

import (
	"strings"
	"testing"
	"time"
)

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/items/x?y=1":                  "/items/x?y=1",
		"/oidc/login?id=abc":            "/oidc/login?id=abc",
		"":                              "/account",
		"//evil.example/x":              "/account",
		"/\\evil.example":               "/account",
		"/\t/evil.example":              "/account",
		"https://evil.example/":         "/account",
		"javascript:alert(1)":           "/account",
		"/" + strings.Repeat("a", 3000): "/account",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSafeNext: whatever comes in, what goes out is a local path that no
// browser reads as another host.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/a", "//b", "/\\c", "http://d", "/\t/e", "/%2f%2fevil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SafeNext(in)
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.ContainsAny(out, "\\\r\n\t") {
			t.Fatalf("SafeNext(%q) = %q", in, out)
		}
	})
}

// FuzzNewAccountCheck: registration input of any shape is judged without
// panic, and what passes has valid identifiers.
func FuzzNewAccountCheck(f *testing.F) {
	f.Add("person", "王小明", "150102199003071237", "", "13800471234", "", "Grass-Land-2026")
	f.Add("legal", "某公司", "", "91150102MA0YW00014", "", "赵青", "x")
	f.Fuzz(func(t *testing.T, kind, name, id, uscc, phone, rep, pw string) {
		in := NewAccount{Kind: Kind(kind), Name: name, IDNumber: id, USCC: uscc, Phone: phone, LegalRep: rep, Password: pw}
		if err := in.Check(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)); err == nil {
			if in.Kind == Person && (len(in.IDNumber) != 18 || !ValidPhone(in.Phone)) || in.Kind == Legal && len(in.USCC) != 18 {
				t.Fatalf("accepted %+v", in)
			}
		}
	})
}

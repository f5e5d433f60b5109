package identity

import (
	"strings"
	"testing"
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

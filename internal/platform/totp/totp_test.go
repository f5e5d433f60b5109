package totp

import (
	"encoding/base32"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rfcSecret is the RFC 6238 Appendix B SHA1 key "12345678901234567890" in base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

var rfcVectors = []struct {
	unix    int64
	code    string
	counter int64
}{
	{59, "287082", 0x1},
	{1111111109, "081804", 0x23523EC},
	{1111111111, "050471", 0x23523ED},
	{1234567890, "005924", 0x273EF07},
	{2000000000, "279037", 0x3F940AA},
}

func TestRFCSecretEncoding(t *testing.T) {
	if got := base32.StdEncoding.EncodeToString([]byte("12345678901234567890")); got != rfcSecret {
		t.Fatalf("base32 of RFC key = %q, want %q", got, rfcSecret)
	}
}

func TestCodeRFC6238(t *testing.T) {
	for _, v := range rfcVectors {
		got, err := Code(rfcSecret, time.Unix(v.unix, 0))
		if err != nil || got != v.code {
			t.Errorf("Code(t=%d) = %q, %v; want %q", v.unix, got, err, v.code)
		}
		c, ok := Verify(rfcSecret, v.code, time.Unix(v.unix, 0))
		if !ok || c != v.counter {
			t.Errorf("Verify(t=%d) = %d, %v; want %d, true", v.unix, c, ok, v.counter)
		}
	}
}

func TestSecretForms(t *testing.T) {
	at := time.Unix(1111111109, 0)
	for _, s := range []string{
		rfcSecret,
		strings.ToLower(rfcSecret),
		"gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ======",
		"  gEzDgNbVgY3TqOjQ\tGEZDGNBVGY3TQOJQ\n",
	} {
		if got, err := Code(s, at); err != nil || got != "081804" {
			t.Errorf("Code(%q) = %q, %v", s, got, err)
		}
		if _, ok := Verify(s, "081804", at); !ok {
			t.Errorf("Verify with secret %q failed", s)
		}
	}
	// Unpadded 80-char (50-byte) secret with padding added still decodes.
	long := base32.StdEncoding.EncodeToString(make([]byte, 21)) // has padding
	if _, err := Code(long, at); err != nil {
		t.Errorf("padded secret %q: %v", long, err)
	}
}

func TestSkewWindow(t *testing.T) {
	base := time.Unix(1111111109, 0) // counter 0x23523EC, 29 s into... its step
	code, _ := Code(rfcSecret, base)
	want := int64(0x23523EC)
	for _, d := range []time.Duration{-30 * time.Second, -1 * time.Second, 0, 1 * time.Second, 30 * time.Second} {
		c, ok := Verify(rfcSecret, code, base.Add(d))
		if !ok || c != want {
			t.Errorf("offset %v: Verify = %d, %v; want %d, true", d, c, ok, want)
		}
	}
	// Step boundaries: the code is valid from the start of the previous step
	// to the end of the next one.
	start := time.Unix(want*30, 0)
	for _, at := range []time.Time{start.Add(-30 * time.Second), start.Add(59 * time.Second)} {
		if _, ok := Verify(rfcSecret, code, at); !ok {
			t.Errorf("at %v: rejected inside the window", at.Unix())
		}
	}
	for _, at := range []time.Time{start.Add(-31 * time.Second), start.Add(60 * time.Second), start.Add(-time.Hour)} {
		if _, ok := Verify(rfcSecret, code, at); ok {
			t.Errorf("at %v: accepted outside the window", at.Unix())
		}
	}
	// Codes from the previous and next steps report their own counters.
	prev, _ := Code(rfcSecret, base.Add(-30*time.Second))
	next, _ := Code(rfcSecret, base.Add(30*time.Second))
	if c, ok := Verify(rfcSecret, prev, base); !ok || c != want-1 {
		t.Errorf("previous-step code: %d, %v", c, ok)
	}
	if c, ok := Verify(rfcSecret, next, base); !ok || c != want+1 {
		t.Errorf("next-step code: %d, %v", c, ok)
	}
	// At the epoch there is no previous step; nothing panics or wraps.
	c0, _ := Code(rfcSecret, time.Unix(0, 0))
	if c, ok := Verify(rfcSecret, c0, time.Unix(0, 0)); !ok || c != 0 {
		t.Errorf("epoch: %d, %v", c, ok)
	}
	if _, ok := Verify(rfcSecret, c0, time.Unix(-1, 0)); ok {
		t.Error("accepted a time before the epoch")
	}
	if _, err := Code(rfcSecret, time.Unix(-1, 0)); err == nil {
		t.Error("Code before the epoch: no error")
	}
}

func TestWrongAndMalformedCodes(t *testing.T) {
	at := time.Unix(1234567890, 0) // code 005924
	for _, code := range []string{
		"005925", "000000", "999999", "5924", "05924", "0005924", "005924 ", " 005924",
		"00592a", "+05924", "-05924", "００５９２４", "005 924", "", "0x5924", "5924.0",
	} {
		if c, ok := Verify(rfcSecret, code, at); ok || c != 0 {
			t.Errorf("Verify(%q) = %d, %v; want 0, false", code, c, ok)
		}
	}
}

func TestMalformedSecret(t *testing.T) {
	at := time.Unix(59, 0)
	for _, s := range []string{
		"",
		"=",
		"A",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1", // '1' is not base32
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ!",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQA", // 33 chars: impossible length
		"GEZD=GNBVGY3TQOJQGEZDGNBVGY3TQOJQ", // padding inside
		"GEZDGNBVGY3TQOJQGEZDGNBV",          // 15 bytes: under 128 bits
		"ＧＥＺＤＧＮＢＶＧＹ３ＴＱＯＪＱＧＥＺＤＧＮＢＶＧＹ３ＴＱＯＪＱ",
		strings.Repeat("A", 4000),
	} {
		if _, err := Code(s, at); err != ErrSecret {
			t.Errorf("Code(secret %.40q) err = %v, want ErrSecret", s, err)
		}
		if _, ok := Verify(s, "287082", at); ok {
			t.Errorf("Verify(secret %.40q) ok", s)
		}
	}
}

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		s, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 32 || strings.ToUpper(s) != s || strings.Contains(s, "=") {
			t.Fatalf("secret %q: want 32 upper-case unpadded base32 characters", s)
		}
		b, err := base32.StdEncoding.DecodeString(s)
		if err != nil || len(b) != SecretBytes {
			t.Fatalf("secret %q decodes to %d bytes, %v", s, len(b), err)
		}
		if seen[s] {
			t.Fatalf("duplicate secret %q", s)
		}
		seen[s] = true
		now := time.Now()
		code, err := Code(s, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := Verify(s, code, now); !ok {
			t.Fatalf("own code rejected for %q", s)
		}
	}
}

func TestURI(t *testing.T) {
	cases := []struct {
		issuer, account, secret, want string
	}{
		{
			"Example", "alice@google.com", "JBSWY3DPEHPK3PXP",
			"otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA1&digits=6&period=30",
		},
		{
			"ACME Co", "john.doe@email.com", "hxdm vjec jjws rb3h wizr 4ifu gftm xboz",
			"otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
		},
		{
			"忆往:Beta", "张三 <a+b@x.cn>", "JBSWY3DPEHPK3PXP====",
			"otpauth://totp/%E5%BF%86%E5%BE%80%3ABeta:%E5%BC%A0%E4%B8%89%20%3Ca%2Bb@x.cn%3E?secret=JBSWY3DPEHPK3PXP&issuer=%E5%BF%86%E5%BE%80%3ABeta&algorithm=SHA1&digits=6&period=30",
		},
		{
			"a&b=c?d#e/f%", "x/y?z#w&v", "JBSWY3DPEHPK3PXP",
			"otpauth://totp/a%26b%3Dc%3Fd%23e%2Ff%25:x%2Fy%3Fz%23w%26v?secret=JBSWY3DPEHPK3PXP&issuer=a%26b%3Dc%3Fd%23e%2Ff%25&algorithm=SHA1&digits=6&period=30",
		},
		{
			"", "bob", "JBSWY3DPEHPK3PXP",
			"otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30",
		},
	}
	for _, c := range cases {
		got := URI(c.issuer, c.account, c.secret)
		if got != c.want {
			t.Errorf("URI(%q, %q)\n got %s\nwant %s", c.issuer, c.account, got, c.want)
			continue
		}
		// A standard parser recovers exactly one label separator and the fields.
		u, err := url.Parse(got)
		if err != nil {
			t.Errorf("url.Parse(%s): %v", got, err)
			continue
		}
		if u.Scheme != "otpauth" || u.Host != "totp" || u.Fragment != "" {
			t.Errorf("%s: scheme %q host %q fragment %q", got, u.Scheme, u.Host, u.Fragment)
		}
		label := strings.TrimPrefix(u.EscapedPath(), "/")
		parts := strings.Split(label, ":")
		wantParts := 2
		if c.issuer == "" {
			wantParts = 1
		}
		if len(parts) != wantParts {
			t.Errorf("%s: label has %d parts, want %d", got, len(parts), wantParts)
			continue
		}
		acct, _ := url.PathUnescape(parts[len(parts)-1])
		if acct != c.account {
			t.Errorf("%s: account decodes to %q", got, acct)
		}
		if wantParts == 2 {
			iss, _ := url.PathUnescape(parts[0])
			if iss != c.issuer {
				t.Errorf("%s: label issuer decodes to %q", got, iss)
			}
		}
		q := u.Query()
		if q.Get("issuer") != c.issuer || q.Get("secret") != normalize(c.secret) {
			t.Errorf("%s: query %v", got, q)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(rfcSecret, "287082", int64(59))
	f.Add("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", "081804", int64(1111111109))
	f.Add("", "", int64(0))
	f.Add("A=", "１２３４５６", int64(-1))
	f.Add("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====", "00000\x00", int64(1<<62))
	f.Fuzz(func(t *testing.T, secret, code string, unix int64) {
		at := time.Unix(unix, 0)
		c, ok := Verify(secret, code, at)
		if !ok {
			if c != 0 {
				t.Fatalf("not ok but counter %d", c)
			}
			return
		}
		if len(code) != Digits {
			t.Fatalf("accepted %q", code)
		}
		now := unix / period
		if c < now-1 || c > now+1 || c < 0 {
			t.Fatalf("counter %d outside window around %d", c, now)
		}
		got, err := Code(secret, time.Unix(c*period, 0))
		if err != nil || got != code {
			t.Fatalf("Code at matched counter = %q, %v; want %q", got, err, code)
		}
		_ = URI(secret, code, secret)
	})
}

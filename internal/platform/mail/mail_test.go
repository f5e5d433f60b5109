package mail_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	netmail "net/mail"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/mail"
	"yiwang/internal/platform/mail/mailtest"
)

func TestCheckAddress(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "wang.xiaoming@example.com", want: "wang.xiaoming@example.com"},
		{in: "  Wang+case@Mail.Example.GOV.cn ", want: "Wang+case@mail.example.gov.cn"},
		{in: "12345678@qq.com", want: "12345678@qq.com"},
		{in: "a-b_c@163-mail.com", want: "a-b_c@163-mail.com"},
		{in: "", wantErr: true},
		{in: "wang", wantErr: true},
		{in: "wang@", wantErr: true},
		{in: "@example.com", wantErr: true},
		{in: "wang@localhost", wantErr: true},
		{in: "wang@example.c0m", wantErr: true},
		{in: "wang@-example.com", wantErr: true},
		{in: "wang@exa_mple.com", wantErr: true},
		{in: "wang..x@example.com", wantErr: true},
		{in: ".wang@example.com", wantErr: true},
		{in: "wang@@example.com", wantErr: true},
		{in: "王小明@example.com", wantErr: true},
		{in: "wang@例子.中国", wantErr: true},
		{in: `"wang x"@example.com`, wantErr: true},
		{in: "Wang <wang@example.com>", wantErr: true},
		{in: "wang@example.com\r\nBcc: victim@example.com", wantErr: true},
		{in: "wang@example.com\nBcc: victim@example.com", wantErr: true},
		{in: "wang@example.com,victim@example.com", wantErr: true},
		{in: "wang@[127.0.0.1]", wantErr: true},
		{in: "\xffwang@example.com", wantErr: true},
		{in: strings.Repeat("a", 65) + "@example.com", wantErr: true},
		{in: "a@" + strings.Repeat("b", 250) + ".com", wantErr: true},
	}
	for _, tc := range tests {
		got, err := mail.CheckAddress(tc.in)
		if tc.wantErr {
			if err == nil || errs.KindOf(err) != errs.Invalid || errs.Message(err) == "" {
				t.Errorf("CheckAddress(%q) = %q, %v; want an Invalid error", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CheckAddress(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseFrom(t *testing.T) {
	tests := []struct {
		in, env string
		wantErr bool
	}{
		{in: "noreply@example.gov.cn", env: "noreply@example.gov.cn"},
		{in: "Yiwang <noreply@example.gov.cn>", env: "noreply@example.gov.cn"},
		{in: "一网通办 <noreply@EXAMPLE.gov.cn>", env: "noreply@example.gov.cn"},
		{in: "", wantErr: true},
		{in: "x <noreply@example.gov.cn>\r\nBcc: a@b.cn", wantErr: true},
		{in: "noreply", wantErr: true},
	}
	for _, tc := range tests {
		env, header, err := mail.ParseFrom(tc.in)
		if tc.wantErr {
			if errs.KindOf(err) != errs.Invalid {
				t.Errorf("ParseFrom(%q) = %q, %q, %v; want Invalid", tc.in, env, header, err)
			}
			continue
		}
		if err != nil || env != tc.env {
			t.Errorf("ParseFrom(%q) = %q, %v; want %q", tc.in, env, err, tc.env)
			continue
		}
		a, err := netmail.ParseAddress(strings.ReplaceAll(header, "\r\n ", " ")) // unfolded, as a reader would
		if err != nil || a.Address != tc.env {
			t.Errorf("ParseFrom(%q) header %q does not parse back: %v", tc.in, header, err)
			continue
		}
		if name, _, _ := strings.Cut(tc.in, " <"); strings.Contains(tc.in, "<") && a.Name != name {
			t.Errorf("ParseFrom(%q) header %q names %q, want %q", tc.in, header, a.Name, name)
		}
	}
}

func TestCheckSubject(t *testing.T) {
	for _, s := range []string{"", "   ", "a\r\nBcc: x@y.cn", "办件\n通知", "tab\there", "\x00", "\xff", strings.Repeat("字", mail.MaxSubject+1)} {
		if err := mail.CheckSubject(s); errs.KindOf(err) != errs.Invalid || errs.Message(err) == "" {
			t.Errorf("CheckSubject(%q) = %v, want Invalid", s, err)
		}
	}
	for _, s := range []string{"办件受理通知", "Case 150100-2026 accepted", strings.Repeat("字", mail.MaxSubject)} {
		if err := mail.CheckSubject(s); err != nil {
			t.Errorf("CheckSubject(%q) = %v, want nil", s, err)
		}
	}
}

// parse reads a built message back the way a mail client would.
func parse(t testing.TB, raw []byte) (*netmail.Message, string, string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, raw)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject %q: %v", msg.Header.Get("Subject"), err)
	}
	body, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, msg.Body))
	if err != nil {
		t.Fatalf("decode body: %v", err)
	}
	return msg, subject, string(body)
}

func TestBytes(t *testing.T) {
	date := time.Date(2026, 3, 2, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))
	long := strings.Repeat("内蒙古自治区政务服务与数据管理局", 6)
	tests := []struct {
		name, subject, text, id string
		wantText                string
	}{
		{name: "chinese", subject: "您的办件已受理", text: "王小明您好：\n您的办件已受理。", id: "0190aa", wantText: "王小明您好：\r\n您的办件已受理。"},
		{name: "ascii", subject: "Case accepted", text: "Hello\r\nworld", id: "x", wantText: "Hello\r\nworld"},
		{name: "long subject", subject: long, text: strings.Repeat("长正文。", 200), wantText: strings.Repeat("长正文。", 200)},
		{name: "long ascii subject", subject: strings.Repeat("abc ", 40), text: "x", wantText: "x"},
		{name: "looks encoded", subject: "=?utf-8?b?QQ==?=", text: "", wantText: ""},
		{name: "bare CR", subject: "s", text: "a\rb", wantText: "a\r\nb"},
		{name: "outer spaces", subject: " 通知 ", text: "x", wantText: "x"},
		{name: "outer ascii spaces", subject: " a ", text: "x", wantText: "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mail.Message{From: "一网通办 <noreply@zwfw.example.gov.cn>", To: []string{"wang@example.com"}, Subject: tc.subject, Text: tc.text, Date: date, ID: tc.id}
			raw, err := m.Bytes()
			if err != nil {
				t.Fatalf("Bytes: %v", err)
			}
			for i, line := range strings.Split(strings.TrimSuffix(string(raw), "\r\n"), "\r\n") {
				if len(line) > 78 {
					t.Errorf("line %d is %d characters: %q", i, len(line), line)
				}
				for _, c := range []byte(line) {
					if c >= 0x80 || c == '\r' || c == '\n' {
						t.Fatalf("line %d has raw byte %#x", i, c)
					}
				}
			}
			msg, subject, body := parse(t, raw)
			if subject != tc.subject {
				t.Errorf("subject = %q, want %q", subject, tc.subject)
			}
			if body != tc.wantText {
				t.Errorf("body = %q, want %q", body, tc.wantText)
			}
			h := msg.Header
			if got := h.Get("Content-Type"); got != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := h.Get("MIME-Version"); got != "1.0" {
				t.Errorf("MIME-Version = %q", got)
			}
			if d, err := h.Date(); err != nil || !d.Equal(date) {
				t.Errorf("Date = %v, %v; want %v", d, err, date)
			}
			if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "wang@example.com" {
				t.Errorf("To = %v, %v", to, err)
			}
			if from, err := h.AddressList("From"); err != nil || from[0].Name != "一网通办" {
				t.Errorf("From = %v, %v", from, err)
			}
			id := h.Get("Message-ID")
			if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@zwfw.example.gov.cn>") || (tc.id != "" && id != "<"+tc.id+"@zwfw.example.gov.cn>") {
				t.Errorf("Message-ID = %q", id)
			}
			if len(h) != 8 {
				t.Errorf("headers = %v, want exactly 8", h)
			}
		})
	}
}

func TestBytesRefusesBadInput(t *testing.T) {
	ok := mail.Message{From: "noreply@example.gov.cn", To: []string{"wang@example.com"}, Subject: "通知", Text: "正文"}
	for name, m := range map[string]mail.Message{
		"subject injection":   {From: ok.From, To: ok.To, Subject: "通知\r\nBcc: victim@example.com", Text: ok.Text},
		"subject LF":          {From: ok.From, To: ok.To, Subject: "通知\nX: y", Text: ok.Text},
		"recipient injection": {From: ok.From, To: []string{"wang@example.com\r\nBcc: victim@example.com"}, Subject: ok.Subject, Text: ok.Text},
		"no recipient":        {From: ok.From, Subject: ok.Subject, Text: ok.Text},
		"bad from":            {From: "nobody", To: ok.To, Subject: ok.Subject, Text: ok.Text},
		"from injection":      {From: "a@example.com\r\nBcc: v@example.com", To: ok.To, Subject: ok.Subject, Text: ok.Text},
		"binary body":         {From: ok.From, To: ok.To, Subject: ok.Subject, Text: "a\x00b"},
		"invalid utf-8 body":  {From: ok.From, To: ok.To, Subject: ok.Subject, Text: "a\xffb"},
		"huge body":           {From: ok.From, To: ok.To, Subject: ok.Subject, Text: strings.Repeat("a", mail.MaxText+1)},
	} {
		if raw, err := m.Bytes(); errs.KindOf(err) != errs.Invalid || raw != nil {
			t.Errorf("%s: Bytes() = %d bytes, %v; want Invalid", name, len(raw), err)
		}
	}
}

func FuzzBytes(f *testing.F) {
	for _, s := range [][3]string{
		{"wang@example.com", "您的办件已受理", "正文"},
		{"a@b.cn", "x\r\nBcc: c@d.cn", "body"},
		{"a@b.cn\r\nX: y", "s", "t"},
		{"a@b.cn", "=?utf-8?b?QQ==?=", "\r.\r\n.\n"},
		{"a@b.cn", strings.Repeat("é", 100), strings.Repeat("长", 1000)},
		{"a@b.cn", " a", "x"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, to, subject, text string) {
		m := mail.Message{From: "一网通办 <noreply@example.gov.cn>", To: []string{to}, Subject: subject, Text: text, Date: time.Unix(1e9, 0)}
		raw, err := m.Bytes()
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Msg == "" || !utf8.ValidString(e.Msg) {
				t.Fatalf("Bytes() bad error %#v", err)
			}
			return
		}
		msg, gotSubject, body := parse(t, raw)
		if len(msg.Header) != 8 {
			t.Fatalf("headers = %v: injected?", msg.Header)
		}
		if gotSubject != subject {
			t.Fatalf("subject = %q, want %q", gotSubject, subject)
		}
		if want := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n"), "\n", "\r\n"); body != want {
			t.Fatalf("body = %q, want %q", body, want)
		}
		list, err := msg.Header.AddressList("To")
		if err != nil || len(list) != 1 {
			t.Fatalf("To = %v, %v", list, err)
		}
		if norm, _ := mail.CheckAddress(to); list[0].Address != norm {
			t.Fatalf("To = %q, want %q", list[0].Address, norm)
		}
	})
}

func FuzzCheckAddress(f *testing.F) {
	for _, s := range []string{"wang@example.com", "a@b", "a\r\n@b.cn", "\"x\"@y.cn", "x@y.cn>", "<x@y.cn>", "王@例.中国"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := mail.CheckAddress(s)
		if err != nil {
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("CheckAddress(%q) error %v not Invalid", s, err)
			}
			return
		}
		if strings.ContainsAny(a, "\r\n <>,;\"") {
			t.Fatalf("CheckAddress(%q) = %q has a separator", s, a)
		}
		p, err := netmail.ParseAddress(a)
		if err != nil || p.Address != a {
			t.Fatalf("CheckAddress(%q) = %q does not parse back: %v", s, a, err)
		}
		if again, err := mail.CheckAddress(a); err != nil || again != a {
			t.Fatalf("CheckAddress not idempotent: %q → %q, %v", a, again, err)
		}
	})
}

func TestLog(t *testing.T) {
	var buf bytes.Buffer
	l := mail.Log{Log: slog.New(slog.NewJSONHandler(&buf, nil))}
	if err := l.Send(t.Context(), mail.Message{From: "noreply@example.gov.cn", To: []string{"wang@example.com"}, Subject: "验证码", Text: "您的验证码是123456"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"msg":"mail (log sender)"`, "wang@example.com", "验证码", "123456"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q: %s", want, buf.String())
		}
	}
	if err := l.Send(t.Context(), mail.Message{From: "noreply@example.gov.cn", To: []string{"x\r\n@y.cn"}, Subject: "s", Text: "t"}); errs.KindOf(err) != errs.Invalid {
		t.Errorf("Log.Send(bad address) = %v, want Invalid", err)
	}
}

func TestSMTP(t *testing.T) {
	m := mail.Message{From: "一网通办 <noreply@example.gov.cn>", To: []string{"wang@example.com", "li@example.org"}, Subject: "办件已受理",
		Text: "您好：\n.\n以点开头的行。\n", ID: "0190abc"}
	tests := []struct {
		name     string
		opts     mailtest.Options
		user, pw string
		trust    bool
		wantTLS  bool
		wantErr  string
	}{
		{name: "plain, no STARTTLS offered", opts: mailtest.Options{}},
		{name: "STARTTLS when offered", opts: mailtest.Options{StartTLS: true}, trust: true, wantTLS: true},
		{name: "STARTTLS and AUTH", opts: mailtest.Options{StartTLS: true, User: "yiwang", Password: "s3cret"}, user: "yiwang", pw: "s3cret", trust: true, wantTLS: true},
		{name: "wrong password", opts: mailtest.Options{StartTLS: true, User: "yiwang", Password: "s3cret"}, user: "yiwang", pw: "nope", trust: true, wantErr: "AUTH"},
		{name: "untrusted certificate", opts: mailtest.Options{StartTLS: true}, wantErr: "STARTTLS"},
		{name: "temporary failure", opts: mailtest.Options{FailData: 1}, wantErr: "451"},
		{name: "user set but no AUTH offered", opts: mailtest.Options{}, user: "yiwang", pw: "x", wantErr: "AUTH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.Start(t, tc.opts)
			s := &mail.SMTP{Addr: srv.Addr, Username: tc.user, Password: tc.pw, Hello: "zwfw.example.gov.cn", Timeout: 5 * time.Second}
			if tc.trust {
				s.TLS = srv.ClientTLS
			}
			err := s.Send(t.Context(), m)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Send = %v, want an error mentioning %q", err, tc.wantErr)
				}
				if n := len(srv.Messages()); n != 0 {
					t.Errorf("server accepted %d messages", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("server got %d messages, want 1", len(got))
			}
			g := got[0]
			if g.From != "noreply@example.gov.cn" || strings.Join(g.To, ",") != "wang@example.com,li@example.org" || g.TLS != tc.wantTLS || g.Auth != tc.user {
				t.Errorf("envelope = from %q to %v tls %v auth %q", g.From, g.To, g.TLS, g.Auth)
			}
			msg, subject, body := parse(t, g.Data)
			if subject != m.Subject || body != "您好：\r\n.\r\n以点开头的行。\r\n" || msg.Header.Get("Message-ID") != "<0190abc@example.gov.cn>" {
				t.Errorf("received subject %q body %q id %q", subject, body, msg.Header.Get("Message-ID"))
			}
		})
	}
}

func TestSMTPRefusesBadMessageWithoutConnecting(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	s := &mail.SMTP{Addr: srv.Addr}
	err := s.Send(t.Context(), mail.Message{From: "noreply@example.gov.cn", To: []string{"a@b.cn"}, Subject: "x\r\nBcc: v@example.com", Text: "t"})
	if errs.KindOf(err) != errs.Invalid {
		t.Fatalf("Send = %v, want Invalid", err)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a message got through")
	}
}

func TestSMTPTimesOut(t *testing.T) {
	// A server that accepts the connection and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	s := &mail.SMTP{Addr: ln.Addr().String(), Timeout: 300 * time.Millisecond}
	if err := s.Send(t.Context(), mail.Message{From: "noreply@example.gov.cn", To: []string{"a@b.cn"}, Subject: "s", Text: "t"}); err == nil {
		t.Fatal("Send to a silent server succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %v despite a 300ms timeout", d)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	s.Timeout = time.Minute
	start = time.Now()
	if err := s.Send(ctx, mail.Message{From: "noreply@example.gov.cn", To: []string{"a@b.cn"}, Subject: "s", Text: "t"}); err == nil {
		t.Fatal("Send to a silent server succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %v despite the context's 200ms deadline", d)
	}
}

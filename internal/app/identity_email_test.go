package app_test

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"yiwang/internal/app"
	"yiwang/internal/app/apptest"
	"yiwang/internal/config"
	"yiwang/internal/identity"
	"yiwang/internal/platform/mail"
	"yiwang/internal/platform/mail/mailtest"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/sqldb"
)

// emailCitizenID is the demo citizen 王小明's ID number (his sign-in name).
const emailCitizenID = "150102199003071237"

// lastMail returns the last e-mail queued on identity.mail.
func lastMail(t *testing.T, e *apptest.Env) identity.Email {
	t.Helper()
	var payload string
	if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT payload FROM outbox WHERE topic = $1 ORDER BY created_at DESC, id DESC LIMIT 1`,
		identity.TopicMail).Scan(&payload); err != nil {
		t.Fatalf("no e-mail queued: %v", err)
	}
	m := outbox.Message{Payload: []byte(payload)}
	var em identity.Email
	if err := m.Decode(&em); err != nil {
		t.Fatal(err)
	}
	return em
}

func countMail(t *testing.T, e *apptest.Env) int {
	t.Helper()
	var n int
	if err := e.App.DB.R.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM outbox WHERE topic = $1`, identity.TopicMail).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAccountEmail: a citizen sets an e-mail address on /account, proves it
// with the code mailed there, gets a notice by e-mail through SMTP, and
// removes it; bad input changes nothing.
func TestAccountEmail(t *testing.T) {
	for _, e := range apptest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			c := e.Client()
			if res := c.Post(t, "/login", url.Values{"username": {emailCitizenID}, "password": {e.Logins[emailCitizenID]}}); res.Status != 303 {
				t.Fatalf("citizen sign-in: %d", res.Status)
			}
			me, err := e.App.Identity.AccountByIDNumber(ctx, emailCitizenID)
			if err != nil {
				t.Fatal(err)
			}
			if page := c.Get(t, "/account"); page.Status != 200 || !strings.Contains(page.Body, "尚未设置电子邮箱") {
				t.Fatalf("account page: %d %.300s", page.Status, page.Body)
			}
			const addr = "wang.xiaoming@example.com"
			for _, sc := range []struct {
				name, path string
				form       url.Values
				header     http.Header
				anon       bool
				status     int
				contains   string
			}{
				{name: "malformed", path: "/account/email", form: url.Values{"action": {"set"}, "email": {"wang@"}}, status: 422, contains: "请填写正确的电子邮箱地址"},
				{name: "header injection", path: "/account/email", form: url.Values{"action": {"set"}, "email": {addr + "\r\nBcc: victim@example.com"}}, status: 422, contains: "电子邮箱地址不能包含换行符"},
				{name: "two addresses", path: "/account/email", form: url.Values{"action": {"set"}, "email": {addr + ",victim@example.com"}}, status: 422, contains: "请填写正确的电子邮箱地址"},
				{name: "display name", path: "/account/email", form: url.Values{"action": {"set"}, "email": {"王 <" + addr + ">"}}, status: 422, contains: "请填写正确的电子邮箱地址"},
				{name: "empty", path: "/account/email", form: url.Values{"action": {"set"}, "email": {""}}, status: 422, contains: "请填写电子邮箱地址"},
				{name: "resend without address", path: "/account/email", form: url.Values{"action": {"resend"}}, status: 422, contains: "请先填写电子邮箱"},
				{name: "verify without address", path: "/account/email/verify", form: url.Values{"email_code": {"123456"}}, status: 422, contains: "请先填写电子邮箱"},
				{name: "remove without address", path: "/account/email/remove", form: url.Values{}, status: 422, contains: "尚未设置电子邮箱"},
				{name: "cross-site", path: "/account/email", form: url.Values{"action": {"set"}, "email": {addr}}, header: http.Header{"Sec-Fetch-Site": {"cross-site"}}, status: 403},
				{name: "signed out", path: "/account/email", form: url.Values{"action": {"set"}, "email": {addr}}, anon: true, status: 401},
			} {
				t.Run(sc.name, func(t *testing.T) {
					cl := c
					if sc.anon {
						cl = e.Client()
					}
					res := cl.Do(t, "POST", sc.path, sc.form, sc.header)
					if res.Status != sc.status || !strings.Contains(res.Body, sc.contains) {
						t.Errorf("POST %s: %d, want %d with %q; body %.500s", sc.path, res.Status, sc.status, sc.contains, res.Body)
					}
				})
			}
			if a, _ := e.App.Identity.Account(ctx, me.ID); a.Email != "" || countMail(t, e) != 0 {
				t.Fatalf("refused requests changed the account (%q) or queued mail", a.Email)
			}

			// Set: a code goes to the address.
			if res := c.Post(t, "/account/email", url.Values{"action": {"set"}, "email": {addr}}); res.Status != 303 || res.Header.Get("Location") != "/account" {
				t.Fatalf("set e-mail: %d %.300s", res.Status, res.Body)
			}
			page := c.Get(t, "/account")
			for _, want := range []string{addr, "待验证", "邮箱验证码", "验证码已发送"} {
				if !strings.Contains(page.Body, want) {
					t.Errorf("account page lacks %q", want)
				}
			}
			msg := lastMail(t, e)
			code := regexp.MustCompile(`验证码是(\d{6})`).FindStringSubmatch(msg.Text)
			if msg.To != addr || code == nil {
				t.Fatalf("verification mail %+v", msg)
			}
			bad := "000000"
			if code[1] == bad {
				bad = "111111"
			}
			if res := c.Post(t, "/account/email/verify", url.Values{"email_code": {bad}}); res.Status != 422 || !strings.Contains(res.Body, "验证码错误") {
				t.Errorf("wrong code: %d %.300s", res.Status, res.Body)
			}
			if res := c.Post(t, "/account/email/verify", url.Values{"email_code": {code[1]}}); res.Status != 303 {
				t.Fatalf("verify: %d %.300s", res.Status, res.Body)
			}
			if page := c.Get(t, "/account"); !strings.Contains(page.Body, "已验证") || strings.Contains(page.Body, "待验证") {
				t.Errorf("after verification the page shows: %.2000s", page.Body)
			}

			// A notice reaches the verified address through SMTP.
			before := countMail(t, e)
			if err := sqldb.InTx(ctx, e.App.DB, func(tx *sql.Tx) error {
				return e.App.Identity.NotifyAccount(ctx, tx, me.ID, "您的办件已受理", "【一网通办】您的办件已受理，请留意后续通知。")
			}); err != nil {
				t.Fatal(err)
			}
			if countMail(t, e) != before+1 {
				t.Fatal("no notice mail queued")
			}
			srv := mailtest.Start(t, mailtest.Options{})
			cfg := e.App.Cfg
			cfg.SMTPAddr, cfg.MailFrom = srv.Addr, "内蒙古政务服务网 <noreply@zwfw.example.gov.cn>"
			h, err := app.MailHandler(cfg, e.App.Log)
			if err != nil {
				t.Fatal(err)
			}
			w := outbox.NewWorker(e.App.DB, outbox.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			w.Handle(identity.TopicMail, h)
			if _, err := w.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			got := srv.Messages()
			if len(got) != 2 { // the verification code and the notice
				t.Fatalf("SMTP server got %d messages", len(got))
			}
			// Delivered concurrently: find the notice among them.
			var notice *mailtest.Message
			var subject, body string
			for i := range got {
				parsed, err := netmail.ReadMessage(bytes.NewReader(got[i].Data))
				if err != nil {
					t.Fatal(err)
				}
				s, _ := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
				if s == "您的办件已受理" {
					b, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, parsed.Body))
					notice, subject, body = &got[i], s, string(b)
				}
			}
			if notice == nil || notice.From != "noreply@zwfw.example.gov.cn" || notice.To[0] != addr || subject != "您的办件已受理" || !strings.Contains(body, "请留意后续通知") {
				t.Errorf("delivered %+v", got)
			}

			// Remove.
			if res := c.Post(t, "/account/email/remove", url.Values{}); res.Status != 303 {
				t.Fatalf("remove: %d", res.Status)
			}
			if page := c.Get(t, "/account"); !strings.Contains(page.Body, "尚未设置电子邮箱") {
				t.Error("the address is still shown after removal")
			}
			var n int
			if err := e.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE target_id = $1 AND action IN ('identity.email.set', 'identity.email.verify', 'identity.email.remove')`,
				me.ID).Scan(&n); err != nil || n != 3 {
				t.Errorf("audit entries %d (%v), want 3", n, err)
			}
		})
	}
}

// TestMailSender: SMTP when smtp_addr is set (which needs mail_from), the
// log otherwise; secrets stay out of `yiwang config`.
func TestMailSender(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.Default()
	s, from, err := app.MailSender(cfg, log)
	if _, ok := s.(mail.Log); !ok || err != nil || from == "" {
		t.Errorf("MailSender(defaults) = %T, %q, %v; want the log", s, from, err)
	}
	cfg.SMTPAddr = "smtp.example.gov.cn:587"
	var ke *config.KeyError
	if _, _, err := app.MailSender(cfg, log); !errors.As(err, &ke) || ke.Key != "mail_from" {
		t.Errorf("MailSender(smtp_addr without mail_from) = %v, want a KeyError on mail_from", err)
	}
	cfg.MailFrom, cfg.SMTPUser, cfg.SMTPPassword, cfg.BaseURL = "政务服务网 <noreply@example.gov.cn>", "yiwang", "Secret-Pass-1", "https://zwfw.example.gov.cn"
	s, from, err = app.MailSender(cfg, log)
	smtp, ok := s.(*mail.SMTP)
	if !ok || err != nil || from != cfg.MailFrom || smtp.Addr != cfg.SMTPAddr || smtp.Username != "yiwang" || smtp.Hello != "zwfw.example.gov.cn" {
		t.Errorf("MailSender(smtp) = %#v, %q, %v", s, from, err)
	}
	if strings.Contains(cfg.Redacted(), "Secret-Pass-1") {
		t.Error("yiwang config shows smtp_password")
	}
	for _, tc := range []struct{ key, value string }{
		{"smtp_addr", "smtp.example.gov.cn"},
		{"mail_from", "noreply"},
		{"mail_from", "a@b.cn\r\nBcc: c@d.cn"},
		{"smtp_user", "a\nb"},
	} {
		if _, err := config.Load("", func(string) string { return "" }, map[string]string{tc.key: tc.value}); err == nil {
			t.Errorf("config accepted %s = %q", tc.key, tc.value)
		}
	}
}

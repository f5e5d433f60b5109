package identity_test

import (
	"database/sql"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"yiwang/internal/identity"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/mail"
	"yiwang/internal/platform/mail/mailtest"
	"yiwang/internal/platform/outbox"
	"yiwang/internal/platform/sqldb"
	"yiwang/internal/platform/sqldb/sqldbtest"
)

// mails returns the e-mail queued on the outbox, oldest first.
func (e *env) mails(t *testing.T) []identity.Email {
	t.Helper()
	rows, err := e.eng.DB.R.QueryContext(e.ctx, `SELECT id, topic, payload, attempts, created_at FROM outbox WHERE topic = $1 ORDER BY created_at, id`, identity.TopicMail)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []identity.Email
	for rows.Next() {
		var m outbox.Message
		var payload string
		if err := rows.Scan(&m.ID, &m.Topic, &payload, &m.Attempts, &m.CreatedAt); err != nil {
			t.Fatal(err)
		}
		m.Payload = []byte(payload)
		var em identity.Email
		if err := m.Decode(&em); err != nil {
			t.Fatal(err)
		}
		out = append(out, em)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var mailCodeRE = regexp.MustCompile(`验证码是(\d{6})`)

// mailCode returns the code in the last e-mail queued to addr.
func (e *env) mailCode(t *testing.T, addr string) string {
	t.Helper()
	ms := e.mails(t)
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].To == addr {
			if m := mailCodeRE.FindStringSubmatch(ms[i].Text); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no code mailed to %s in %+v", addr, ms)
	return ""
}

func (e *env) audits(t *testing.T, action string) int {
	t.Helper()
	var n int
	if err := e.eng.DB.R.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM audit_log WHERE action = $1`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) account(t *testing.T, id string) identity.Account {
	t.Helper()
	a, err := e.svc.Account(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// notify runs NotifyAccount in a transaction of its own, as a caller would.
func (e *env) notify(accountID, subject, text string) error {
	return sqldb.InTx(e.ctx, e.eng.DB, func(tx *sql.Tx) error { return e.svc.NotifyAccount(e.ctx, tx, accountID, subject, text) })
}

func wrong(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestEmailLifecycle(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			e := newEnv(t, eng)
			a, _ := e.register(t, "王小明", idNo(t, "15010219900307123"), "13800471234")
			const addr = "wang.xiaoming@example.com"

			// Bad addresses change nothing.
			for _, bad := range []string{"", "wang", "wang@example", "wang@example.com\r\nBcc: victim@example.com", "Wang <wang@example.com>", "a@b.cn,c@d.cn"} {
				err := e.svc.SetEmail(e.ctx, a, bad)
				if errs.KindOf(err) != errs.Invalid || fields(err)["email"] == "" {
					t.Errorf("SetEmail(%q) = %v, want Invalid on email", bad, err)
				}
			}
			if got := e.account(t, a.ID); got.Email != "" || len(e.mails(t)) != 0 || e.audits(t, "identity.email.set") != 0 {
				t.Fatalf("refused addresses left %q, %d mails", got.Email, len(e.mails(t)))
			}
			// Verifying before any address is set.
			if err := e.svc.VerifyEmail(e.ctx, a, "123456"); errs.KindOf(err) != errs.Invalid {
				t.Errorf("VerifyEmail without an address = %v", err)
			}

			// Set: stored unverified, a code mailed, audited.
			if err := e.svc.SetEmail(e.ctx, a, "  wang.xiaoming@EXAMPLE.com "); err != nil {
				t.Fatalf("SetEmail: %v", err)
			}
			got := e.account(t, a.ID)
			if got.Email != addr || got.EmailVerified() || e.audits(t, "identity.email.set") != 1 {
				t.Fatalf("after SetEmail: %q verified %v", got.Email, got.EmailVerified())
			}
			code := e.mailCode(t, addr)
			var digest string
			if err := eng.DB.R.QueryRowContext(e.ctx, `SELECT code_hash FROM identity_codes WHERE target = $1`, addr).Scan(&digest); err != nil || strings.Contains(digest, code) {
				t.Errorf("stored code %q (%v): want a digest", digest, err)
			}

			// Unverified: notices go by SMS only.
			sms := len(e.inbox.sent["13800471234"])
			if err := e.notify(a.ID, "办件已受理", "【一网通办】您的办件已受理。"); err != nil {
				t.Fatal(err)
			}
			if n := len(e.inbox.sent["13800471234"]); n != sms+1 {
				t.Errorf("SMS sent %d, want %d", n, sms+1)
			}
			if n := len(e.mails(t)); n != 1 {
				t.Errorf("an unverified address got a notice: %d mails", n)
			}

			// Limits: a second code within the minute is refused.
			if err := e.svc.ResendEmailCode(e.ctx, got); errs.KindOf(err) != errs.TooMany {
				t.Errorf("resend within a minute = %v, want TooMany", err)
			}
			// Wrong codes count and change nothing.
			for _, c := range []string{wrong(code), "12a456", "12345", ""} {
				err := e.svc.VerifyEmail(e.ctx, got, c)
				if errs.KindOf(err) != errs.Invalid || fields(err)["email_code"] == "" {
					t.Errorf("VerifyEmail(%q) = %v %v, want Invalid on email_code", c, err, fields(err))
				}
			}
			if e.account(t, a.ID).EmailVerified() {
				t.Fatal("a wrong code verified the address")
			}
			if err := e.svc.VerifyEmail(e.ctx, got, code); err != nil {
				t.Fatalf("VerifyEmail: %v", err)
			}
			got = e.account(t, a.ID)
			if !got.EmailVerified() || !got.EmailVerifiedAt.Equal(e.clock.Now()) || e.audits(t, "identity.email.verify") != 1 {
				t.Fatalf("after VerifyEmail: %+v", got)
			}
			if err := e.svc.VerifyEmail(e.ctx, got, code); errs.KindOf(err) != errs.Invalid {
				t.Errorf("verifying twice = %v", err)
			}
			if err := e.svc.SetEmail(e.ctx, got, addr); errs.KindOf(err) != errs.Invalid {
				t.Errorf("setting the verified address again = %v", err)
			}

			// Verified: notices go by SMS and e-mail.
			if err := e.notify(a.ID, "办件已受理", "【一网通办】您的办件已受理。"); err != nil {
				t.Fatal(err)
			}
			ms := e.mails(t)
			if last := ms[len(ms)-1]; len(ms) != 2 || last.To != addr || last.Subject != "办件已受理" || !strings.HasPrefix(last.Text, "【一网通办】您的办件已受理。") {
				t.Errorf("notice mails = %+v", ms)
			}
			// A subject a mail header cannot carry is refused and, rolled
			// back with the caller's change, sends nothing at all.
			sms = len(e.inbox.sent["13800471234"])
			for _, bad := range [][2]string{{"受理\r\nBcc: victim@example.com", "正文"}, {"受理\n", "正文"}, {"", "正文"}, {"受理", ""}, {"受理", "a\x00b"}} {
				if err := e.notify(a.ID, bad[0], bad[1]); errs.KindOf(err) != errs.Invalid {
					t.Errorf("NotifyAccount(%q, %q) = %v, want Invalid", bad[0], bad[1], err)
				}
			}
			if len(e.mails(t)) != 2 || len(e.inbox.sent["13800471234"]) != sms {
				t.Error("a refused notice was queued")
			}
			if err := e.notify("no-such-account", "s", "t"); errs.KindOf(err) != errs.NotFound {
				t.Errorf("NotifyAccount(unknown) = %v, want NotFound", err)
			}

			// Changing the address clears the verification until the new one is proven.
			e.clock.Advance(2 * time.Minute)
			if err := e.svc.SetEmail(e.ctx, got, "xm.wang@example.org"); err != nil {
				t.Fatal(err)
			}
			got = e.account(t, a.ID)
			if got.Email != "xm.wang@example.org" || got.EmailVerified() {
				t.Fatalf("after change: %+v", got)
			}
			n := len(e.mails(t))
			if err := e.notify(a.ID, "办件已办结", "办结"); err != nil {
				t.Fatal(err)
			}
			if len(e.mails(t)) != n {
				t.Error("the unverified new address got a notice")
			}
			// Five wrong entries spend the code; then a new one is needed.
			newCode := e.mailCode(t, "xm.wang@example.org")
			for range 5 {
				e.svc.VerifyEmail(e.ctx, got, wrong(newCode))
			}
			if err := e.svc.VerifyEmail(e.ctx, got, newCode); err == nil || !strings.Contains(errs.Message(err), "失效") {
				t.Errorf("the right code after five wrong ones = %v", err)
			}
			// A code expires.
			e.clock.Advance(2 * time.Minute)
			if err := e.svc.ResendEmailCode(e.ctx, got); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(31 * time.Minute)
			if err := e.svc.VerifyEmail(e.ctx, got, e.mailCode(t, "xm.wang@example.org")); err == nil || !strings.Contains(errs.Message(err), "失效") {
				t.Errorf("an expired code = %v", err)
			}

			// Remove.
			if err := e.svc.RemoveEmail(e.ctx, got); err != nil {
				t.Fatal(err)
			}
			if got := e.account(t, a.ID); got.Email != "" || !got.EmailVerifiedAt.IsZero() || e.audits(t, "identity.email.remove") != 1 {
				t.Errorf("after RemoveEmail: %+v", got)
			}
			if err := e.svc.RemoveEmail(e.ctx, got); errs.KindOf(err) != errs.Invalid {
				t.Errorf("removing twice = %v", err)
			}
			if err := e.svc.ResendEmailCode(e.ctx, got); errs.KindOf(err) != errs.Invalid {
				t.Errorf("resend without an address = %v", err)
			}
		})
	}
}

// TestEmailCodeIsPerAccount: a code proves an address for the account it
// was sent for only, and the limits count per address across accounts.
func TestEmailCodeIsPerAccount(t *testing.T) {
	e := newEnv(t, sqldbtest.SQLite(t))
	a, _ := e.register(t, "王小明", idNo(t, "15010219900307123"), "13800471234")
	b, _ := e.register(t, "李华", idNo(t, "15010219851111002"), "13900000001")
	const addr = "shared@example.com"
	if err := e.svc.SetEmail(e.ctx, a, addr); err != nil {
		t.Fatal(err)
	}
	codeA := e.mailCode(t, addr)
	if err := e.svc.SetEmail(e.ctx, b, addr); errs.KindOf(err) != errs.TooMany {
		t.Fatalf("a second code to the address within a minute = %v", err)
	}
	if got := e.account(t, b.ID); got.Email != "" {
		t.Fatalf("a refused SetEmail stored %q", got.Email)
	}
	e.clock.Advance(2 * time.Minute)
	if err := e.svc.SetEmail(e.ctx, b, addr); err != nil {
		t.Fatal(err)
	}
	codeB := e.mailCode(t, addr)
	if codeA != codeB {
		if err := e.svc.VerifyEmail(e.ctx, e.account(t, b.ID), codeA); errs.KindOf(err) != errs.Invalid {
			t.Errorf("account A's code verified B: %v", err)
		}
	}
	if err := e.svc.VerifyEmail(e.ctx, e.account(t, a.ID), codeA); err != nil {
		t.Errorf("A's own code: %v", err)
	}
}

// TestDeliverMail: the outbox handler sends queued e-mail through SMTP;
// a server failure leaves it to the outbox, which retries.
func TestDeliverMail(t *testing.T) {
	for _, eng := range sqldbtest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			srv := mailtest.Start(t, mailtest.Options{StartTLS: true, FailData: 1})
			sender := &mail.SMTP{Addr: srv.Addr, TLS: srv.ClientTLS, Timeout: 5 * time.Second}
			w := outbox.NewWorker(eng.DB, outbox.Options{BaseBackoff: time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			w.Handle(identity.TopicMail, identity.DeliverMail(sender, "一网通办 <noreply@zwfw.example.gov.cn>"))
			err := sqldb.InTx(t.Context(), eng.DB, func(tx *sql.Tx) error {
				return identity.OutboxMailer{}.Mail(t.Context(), tx, "wang@example.com", "办件已受理", "您的办件已受理。")
			})
			if err != nil {
				t.Fatal(err)
			}
			// Bad input is refused before anything is queued.
			err = sqldb.InTx(t.Context(), eng.DB, func(tx *sql.Tx) error {
				return identity.OutboxMailer{}.Mail(t.Context(), tx, "wang@example.com\r\nBcc: v@example.com", "s", "t")
			})
			if errs.KindOf(err) != errs.Invalid {
				t.Errorf("Mail(injected address) = %v", err)
			}
			if n, err := w.RunOnce(t.Context()); n != 1 || err != nil {
				t.Fatalf("first run: %d %v", n, err)
			}
			if len(srv.Messages()) != 0 {
				t.Fatal("the refused delivery counted")
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(srv.Messages()) == 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				if _, err := w.RunOnce(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			got := srv.Messages()
			if len(got) != 1 || !got[0].TLS || got[0].To[0] != "wang@example.com" || !strings.Contains(string(got[0].Data), "Subject: =?utf-8?b?") {
				t.Fatalf("delivered %+v", got)
			}
			st, err := outbox.Count(t.Context(), eng.DB)
			if err != nil || st.Pending != 0 || st.Done != 1 {
				t.Errorf("outbox %+v %v", st, err)
			}
		})
	}
}

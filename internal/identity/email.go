package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"yiwang/internal/platform/audit"
	"yiwang/internal/platform/authn"
	"yiwang/internal/platform/errs"
	"yiwang/internal/platform/mail"
	"yiwang/internal/platform/sqldb"
)

// An account's e-mail address is optional. Setting or changing it stores
// it unverified and sends a 6-digit code there (stored as a digest like
// the SMS codes, with the same limits: one a minute and ten a day per
// address and per account, five wrong entries spend a code); entering the
// code verifies it. Only a verified address receives notices.

// emailPurpose is the identity_codes purpose of codes that prove accountID's
// address: a code proves one address for one account only.
func emailPurpose(accountID string) string { return "email:" + accountID }

// emailTarget is the identity_codes target of an address: mailboxes are
// case-insensitive in practice, so limits count them so.
func emailTarget(addr string) string { return strings.ToLower(addr) }

func emailInvalid(op, msg string) error {
	return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Fields: map[string]string{"email": msg}}
}

// SetEmail sets (or changes) a's e-mail address, unverified, and sends a
// verification code there. Setting the address already pending
// verification sends a new code; a malformed address, the verified address
// itself or a limit reached changes nothing.
func (s *Service) SetEmail(ctx context.Context, a Account, addr string) error {
	const op = "identity.Service.SetEmail"
	addr, err := mail.CheckAddress(addr)
	if err != nil {
		return err
	}
	code, err := newCode()
	if err != nil {
		return err
	}
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		cur, verified, err := lockEmail(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		if verified && strings.EqualFold(cur, addr) {
			return emailInvalid(op, "该电子邮箱已验证，无需重复设置")
		}
		if cur != addr {
			now := s.now()
			if _, err := tx.ExecContext(ctx, `UPDATE identity_accounts SET email = $1, email_verified_at = NULL, updated_at = $2, version = version + 1
				WHERE id = $3`, addr, now, a.ID); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			detail := map[string]any{"email": MaskedEmail(addr)}
			if cur != "" {
				detail["previous"] = MaskedEmail(cur)
			}
			if err := audit.Write(ctx, tx, audit.Entry{Action: "identity.email.set", TargetType: "identity_account", TargetID: a.ID, Detail: detail}); err != nil {
				return err
			}
		}
		return s.sendEmailCode(ctx, tx, a.ID, addr, code)
	})
}

// ResendEmailCode sends a new code to a's address awaiting verification.
func (s *Service) ResendEmailCode(ctx context.Context, a Account) error {
	code, err := newCode()
	if err != nil {
		return err
	}
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		cur, verified, err := lockEmail(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		switch {
		case cur == "":
			return emailInvalid("identity.Service.ResendEmailCode", "请先填写电子邮箱")
		case verified:
			return emailInvalid("identity.Service.ResendEmailCode", "该电子邮箱已验证")
		}
		return s.sendEmailCode(ctx, tx, a.ID, cur, code)
	})
}

// lockEmail locks a's row for the rest of tx (a no-op update: the row lock
// on PostgreSQL, the single writer on SQLite) and returns its address and
// whether that is verified, so that limits and changes take turns.
func lockEmail(ctx context.Context, tx *sql.Tx, accountID string) (addr string, verified bool, err error) {
	var at sql.NullTime
	err = tx.QueryRowContext(ctx, `UPDATE identity_accounts SET version = version WHERE id = $1 RETURNING COALESCE(email, ''), email_verified_at`,
		accountID).Scan(&addr, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, errNoAccount
	}
	if err != nil {
		return "", false, fmt.Errorf("identity.lockEmail: %w", err)
	}
	return addr, addr != "" && at.Valid, nil
}

// sendEmailCode stores code's digest for accountID and addr and queues the
// e-mail, within the limits per address and per account.
func (s *Service) sendEmailCode(ctx context.Context, tx *sql.Tx, accountID, addr, code string) error {
	const op = "identity.Service.sendEmailCode"
	now, target, purpose := s.now(), emailTarget(addr), emailPurpose(accountID)
	// Lock the address's row: accounts sending to one address take turns
	// (the account's own row is already locked).
	if _, err := tx.ExecContext(ctx, `INSERT INTO identity_code_locks (target, locked_at) VALUES ($1, $2)
		ON CONFLICT (target) DO UPDATE SET locked_at = $2`, target, now); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	for _, c := range []struct{ where, arg, daily string }{
		{`target = $1`, target, "该电子邮箱今日获取验证码次数已达上限，请明天再试"},
		{`purpose = $1`, purpose, "您今日获取邮箱验证码次数已达上限，请明天再试"},
	} {
		var today int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM identity_codes WHERE `+c.where+` AND created_at > $2`,
			c.arg, now.Add(-24*time.Hour)).Scan(&today); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if today >= s.set.CodesPerDay {
			return &errs.Error{Kind: errs.TooMany, Op: op, Msg: c.daily}
		}
		var last sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT created_at FROM identity_codes WHERE `+c.where+` ORDER BY created_at DESC LIMIT 1`, c.arg).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", op, err)
		}
		if wait := last.Time.Add(s.set.CodeInterval).Sub(now); last.Valid && wait > 0 {
			return &errs.Error{Kind: errs.TooMany, Op: op, Msg: fmt.Sprintf("验证码发送过于频繁，请 %d 秒后再试", int(wait.Seconds())+1)}
		}
	}
	id := sqldb.NewID()
	if _, err := tx.ExecContext(ctx, `INSERT INTO identity_codes (id, purpose, target, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, purpose, target, authn.HashToken(id+":"+code), now, now.Add(s.set.EmailCodeTTL)); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return s.mailer.Mail(ctx, tx, addr, "电子邮箱验证码",
		fmt.Sprintf("您好：\n\n您正在为统一身份认证账号绑定此电子邮箱，验证码是%s，%d分钟内有效。\n\n如非本人操作，请忽略本邮件，您的邮箱不会被绑定。\n\n%s",
			code, int(s.set.EmailCodeTTL.Minutes()), mailFooter))
}

// mailFooter ends every e-mail identity sends.
const mailFooter = "（此邮件由政务服务平台自动发送，请勿直接回复。）"

// VerifyEmail checks the code sent to a's address and marks the address
// verified. A wrong code counts towards the code's attempts and changes
// nothing else.
func (s *Service) VerifyEmail(ctx context.Context, a Account, code string) error {
	const op = "identity.Service.VerifyEmail"
	var result error
	err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		result = nil
		cur, verified, err := lockEmail(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		switch {
		case cur == "":
			result = &errs.Error{Kind: errs.Invalid, Op: op, Msg: "请先填写电子邮箱", Fields: map[string]string{"email": "请先填写电子邮箱"}}
			return nil
		case verified:
			result = &errs.Error{Kind: errs.Invalid, Op: op, Msg: "该电子邮箱已验证", Fields: map[string]string{"email_code": "该电子邮箱已验证"}}
			return nil
		}
		if result, err = s.checkCode(ctx, tx, emailPurpose(a.ID), emailTarget(cur), code); err != nil || result != nil {
			return err // a wrong code's attempt is committed
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE identity_accounts SET email_verified_at = $1, updated_at = $1, version = version + 1 WHERE id = $2`,
			now, a.ID); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "identity.email.verify", TargetType: "identity_account", TargetID: a.ID,
			Detail: map[string]any{"email": MaskedEmail(cur)}})
	})
	if err != nil {
		return err
	}
	var e *errs.Error
	if errors.As(result, &e) && e.Fields["code"] != "" {
		// The form names its code field email_code.
		e.Fields = map[string]string{"email_code": e.Fields["code"]}
	}
	return result
}

// RemoveEmail removes a's e-mail address, verified or not.
func (s *Service) RemoveEmail(ctx context.Context, a Account) error {
	return sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
		cur, _, err := lockEmail(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		if cur == "" {
			return emailInvalid("identity.Service.RemoveEmail", "尚未设置电子邮箱")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE identity_accounts SET email = NULL, email_verified_at = NULL, updated_at = $1, version = version + 1
			WHERE id = $2`, s.now(), a.ID); err != nil {
			return fmt.Errorf("identity.Service.RemoveEmail: %w", err)
		}
		return audit.Write(ctx, tx, audit.Entry{Action: "identity.email.remove", TargetType: "identity_account", TargetID: a.ID,
			Detail: map[string]any{"email": MaskedEmail(cur)}})
	})
}

// NotifyAccount tells the holder of accountID something on every channel
// the account has, inside the caller's transaction tx: text by SMS to its
// phone (when it has one), and subject and text by e-mail to its address
// when that is verified. Both are queued on the outbox, so they go out
// after tx commits and never after a rollback. A subject or text that an
// e-mail could not carry (a line break in the subject, control
// characters) is Invalid whether or not the account has an address, and
// queues nothing.
func (s *Service) NotifyAccount(ctx context.Context, tx *sql.Tx, accountID, subject, text string) error {
	return s.NotifyAccountOr(ctx, tx, accountID, "", subject, text)
}

// NotifyAccountOr is NotifyAccount with a phone to text when the account
// has none of its own (an enterprise without one, whose 经办人 gave theirs).
func (s *Service) NotifyAccountOr(ctx context.Context, tx *sql.Tx, accountID, phone, subject, text string) error {
	const op = "identity.Service.NotifyAccount"
	if err := mail.CheckSubject(subject); err != nil {
		return err
	}
	if strings.TrimSpace(text) == "" {
		return &errs.Error{Kind: errs.Invalid, Op: op, Msg: "通知内容不能为空"}
	}
	if err := mail.CheckText(text); err != nil {
		return err
	}
	a, err := getAccount(ctx, tx, `id = $1`, accountID)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if a.Phone != "" {
		phone = a.Phone
	}
	if phone != "" {
		if err := s.sender.Send(ctx, tx, phone, text); err != nil {
			return fmt.Errorf("%s: sms: %w", op, err)
		}
	}
	if a.EmailVerified() {
		if err := s.mailer.Mail(ctx, tx, a.Email, subject, text+"\n\n"+mailFooter); err != nil {
			return fmt.Errorf("%s: mail: %w", op, err)
		}
	}
	return nil
}

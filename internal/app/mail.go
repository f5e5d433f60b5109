package app

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"

	"yiwang/internal/config"
	"yiwang/internal/identity"
	"yiwang/internal/platform/mail"
	"yiwang/internal/platform/outbox"
)

// logMailFrom is the sender the log shows when mail_from is not set.
const logMailFrom = "noreply@yiwang.invalid"

// MailSender returns the configured e-mail sender and the sender address:
// SMTP when smtp_addr is set (mail_from is then required), else the log.
func MailSender(cfg config.Config, log *slog.Logger) (mail.Sender, string, error) {
	from := cfg.MailFrom
	if cfg.SMTPAddr == "" {
		if from == "" {
			from = logMailFrom
		}
		if _, _, err := mail.ParseFrom(from); err != nil {
			return nil, "", &config.KeyError{Key: "mail_from", Source: "the effective configuration", Err: fmt.Errorf("want an address such as noreply@example.gov.cn")}
		}
		return mail.Log{Log: log}, from, nil
	}
	if from == "" {
		return nil, "", &config.KeyError{Key: "mail_from", Source: "the effective configuration", Err: fmt.Errorf("required when smtp_addr is set")}
	}
	if _, _, err := mail.ParseFrom(from); err != nil {
		return nil, "", &config.KeyError{Key: "mail_from", Source: "the effective configuration", Err: fmt.Errorf("want an address such as noreply@example.gov.cn")}
	}
	s := &mail.SMTP{Addr: cfg.SMTPAddr, Username: cfg.SMTPUser, Password: cfg.SMTPPassword}
	// EHLO with the public host name when there is one; some servers
	// refuse "localhost".
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Hostname() != "" && net.ParseIP(u.Hostname()) == nil {
		s.Hello = u.Hostname()
	}
	return s, from, nil
}

// MailHandler returns the outbox handler of identity's e-mail queue
// (identity.TopicMail): messages go out through MailSender's sender, and
// the outbox retries those the server refuses or cannot take.
func MailHandler(cfg config.Config, log *slog.Logger) (outbox.Handler, error) {
	s, from, err := MailSender(cfg, log)
	if err != nil {
		return nil, err
	}
	return identity.DeliverMail(s, from), nil
}

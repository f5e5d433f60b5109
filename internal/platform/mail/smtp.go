package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"time"
)

// SMTP sends through one SMTP server (a submission server or relay). It
// upgrades with STARTTLS whenever the server offers it and uses implicit
// TLS on port 465; credentials, when set, are sent only over TLS (or to a
// server on this machine), as net/smtp's PLAIN mechanism insists.
type SMTP struct {
	Addr     string        // host:port
	Username string        // "": no authentication
	Password string        // with Username
	Hello    string        // name given in EHLO; "": localhost
	TLS      *tls.Config   // nil: verify the server's certificate for its host name
	Timeout  time.Duration // for one whole delivery, unless ctx ends sooner [30s]
}

// Send delivers m: one connection per message.
func (s *SMTP) Send(ctx context.Context, m Message) (err error) {
	from, to, err := m.Check()
	if err != nil {
		return err
	}
	raw, err := m.Bytes()
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("mail.SMTP: address %q: %w", s.Addr, err)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tc := s.tlsConfig(host)
	d := &net.Dialer{}
	var conn net.Conn
	if port == "465" {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tc}).DialContext(ctx, "tcp", s.Addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.Addr)
	}
	if err != nil {
		return fmt.Errorf("mail.SMTP: dial %s: %w", s.Addr, err)
	}
	// The deadline bounds every read and write; cancelling ctx closes the
	// connection, which ends whatever the client waits for.
	dl, _ := ctx.Deadline()
	conn.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail.SMTP: greeting from %s: %w", s.Addr, err)
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if s.Hello != "" {
		if err := c.Hello(s.Hello); err != nil {
			return fmt.Errorf("mail.SMTP: EHLO: %w", err)
		}
	}
	if _, isTLS := c.TLSConnectionState(); !isTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tc); err != nil {
				return fmt.Errorf("mail.SMTP: STARTTLS: %w", err)
			}
		}
	}
	if s.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("mail.SMTP: the server offers no authentication (AUTH), but smtp_user is set")
		}
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("mail.SMTP: AUTH: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("mail.SMTP: MAIL FROM: %w", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("mail.SMTP: RCPT TO: %w", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail.SMTP: DATA: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("mail.SMTP: DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail.SMTP: message refused: %w", err)
	}
	// Accepted: a failing QUIT changes nothing.
	if err := c.Quit(); err != nil {
		c.Close()
	}
	return nil
}

func (s *SMTP) tlsConfig(host string) *tls.Config {
	if s.TLS != nil {
		c := s.TLS.Clone()
		if c.ServerName == "" {
			c.ServerName = host
		}
		return c
	}
	return &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
}

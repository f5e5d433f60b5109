package identity

import (
	"context"
	"database/sql"
	"fmt"

	"yiwang/internal/platform/mail"
	"yiwang/internal/platform/outbox"
)

// Mailer queues an e-mail inside the transaction that decided to send it,
// so a rolled-back change sends nothing.
type Mailer interface {
	Mail(ctx context.Context, tx *sql.Tx, to, subject, text string) error
}

// TopicMail is the outbox topic of e-mail to account holders.
const TopicMail = "identity.mail"

// Email is the payload of TopicMail.
type Email struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

// OutboxMailer queues e-mail on the outbox; DeliverMail's handler of
// TopicMail sends it (through SMTP, or to the log).
type OutboxMailer struct{}

// Mail checks the message and queues it: a malformed address, a subject
// with a line break or an unusable body is Invalid and queues nothing.
func (OutboxMailer) Mail(ctx context.Context, tx *sql.Tx, to, subject, text string) error {
	addr, err := mail.CheckAddress(to)
	if err != nil {
		return err
	}
	if err := mail.CheckSubject(subject); err != nil {
		return err
	}
	if err := mail.CheckText(text); err != nil {
		return err
	}
	_, err = outbox.Enqueue(ctx, tx, TopicMail, Email{To: addr, Subject: subject, Text: text})
	return err
}

// DeliverMail returns the outbox handler of TopicMail: it sends each queued
// e-mail from from through sender. An error (the server is down, or
// refuses) leaves the message to the outbox, which retries with backoff
// and parks it after its last attempt. The outbox message's id becomes the
// Message-ID, so a message sent twice (at-least-once delivery) is
// recognisably the same one.
func DeliverMail(sender mail.Sender, from string) outbox.Handler {
	return func(ctx context.Context, m outbox.Message) error {
		var e Email
		if err := m.Decode(&e); err != nil {
			return fmt.Errorf("identity.DeliverMail: %w", err)
		}
		if err := sender.Send(ctx, mail.Message{From: from, To: []string{e.To}, Subject: e.Subject, Text: e.Text, ID: m.ID}); err != nil {
			return fmt.Errorf("identity.DeliverMail(%s): %w", MaskedEmail(e.To), err)
		}
		return nil
	}
}

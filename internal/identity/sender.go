package identity

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"yiwang/internal/platform/outbox"
)

// Sender delivers a text message (短信) to a phone, inside the transaction
// that decided to send it, so a rolled-back change sends nothing.
type Sender interface {
	Send(ctx context.Context, tx *sql.Tx, phone, text string) error
}

// TopicSMS is the outbox topic of messages to phones.
const TopicSMS = "identity.sms"

// SMS is the payload of TopicSMS.
type SMS struct {
	Phone string `json:"phone"`
	Text  string `json:"text"`
}

// OutboxSender queues messages on the outbox; a handler of TopicSMS
// delivers them (LogSMS, or an SMS gateway's adapter in production).
type OutboxSender struct{}

// Send queues the message.
func (OutboxSender) Send(ctx context.Context, tx *sql.Tx, phone, text string) error {
	_, err := outbox.Enqueue(ctx, tx, TopicSMS, SMS{Phone: phone, Text: text})
	return err
}

// LogSMS returns the outbox handler that delivers messages by writing them
// to the log: the demo and offline installations read codes there. Do not
// use it where the log is less protected than the phones.
func LogSMS(log *slog.Logger) outbox.Handler {
	return func(ctx context.Context, m outbox.Message) error {
		var sms SMS
		if err := m.Decode(&sms); err != nil {
			return fmt.Errorf("identity.LogSMS: %w", err)
		}
		log.InfoContext(ctx, "sms (log sender)", "phone", sms.Phone, "text", sms.Text)
		return nil
	}
}

// Package mail sends e-mail: a domain-agnostic Sender, an SMTP
// implementation (STARTTLS whenever the server offers it, implicit TLS on
// port 465) and a log implementation for the demo and offline
// installations. Messages are plain text in UTF-8 with the headers mail
// systems expect: From, To, Subject (RFC 2047 encoded-words), Date,
// Message-ID, MIME-Version and Content-Type text/plain; charset=utf-8, the
// body base64-encoded. Addresses and subjects are checked before anything
// is built: a CR or LF (header injection), a malformed address or an
// oversized text is errs.Invalid with a zh-CN message, never a panic.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"yiwang/internal/platform/errs"
)

// Sender delivers one message. A returned error means it was not accepted
// and may be retried.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Message is one plain-text e-mail.
type Message struct {
	From    string    // "noreply@example.gov.cn" or "一网通办 <noreply@example.gov.cn>"
	To      []string  // bare addresses (CheckAddress)
	Subject string    // one line
	Text    string    // the body, plain text
	Date    time.Time // zero: now
	ID      string    // stable id for Message-ID (e.g. the outbox message's), so a resent message is recognisably the same; "": random
}

// Limits on what a message may hold.
const (
	MaxAddressLen = 254        // RFC 5321 path limit
	MaxSubject    = 200        // characters
	MaxText       = 256 << 10  // bytes of body
	MaxRecipients = 50         // per message
	maxLine       = 76         // base64 and folded header lines
	maxRaw        = 1024 << 10 // a built message never exceeds this
)

func invalid(op, field, msg string) error {
	return &errs.Error{Kind: errs.Invalid, Op: op, Msg: msg, Fields: map[string]string{field: msg}}
}

// dot-atom local part (RFC 5322 atext) and an LDH domain with at least one
// dot and an alphabetic top-level label. Quoted local parts, IP literals
// and internationalised addresses are refused: they are rare, and the
// zh-CN message says what to enter instead.
var (
	localRE  = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
	labelRE  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	topRE    = regexp.MustCompile(`^[A-Za-z]{2,63}$`)
	msgIDRE  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	errAddr  = "请填写正确的电子邮箱地址，例如 name@example.com"
	errCRLF  = "不能包含换行符或控制字符"
	errEmpty = "请填写电子邮箱地址"
)

// CheckAddress validates a bare e-mail address (name@example.com) as a
// person typed it and returns it normalised: trimmed, domain in lower
// case. Display names, CR/LF and anything net/mail would not parse back
// to the same address are Invalid.
func CheckAddress(s string) (string, error) {
	const op = "mail.CheckAddress"
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid(op, "email", errEmpty)
	}
	if len(s) > MaxAddressLen || !utf8.ValidString(s) {
		return "", invalid(op, "email", errAddr)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", invalid(op, "email", "电子邮箱地址"+errCRLF)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > 64 || at == len(s)-1 {
		return "", invalid(op, "email", errAddr)
	}
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if !localRE.MatchString(local) {
		return "", invalid(op, "email", errAddr)
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 || !topRE.MatchString(labels[len(labels)-1]) {
		return "", invalid(op, "email", errAddr)
	}
	for _, l := range labels {
		if !labelRE.MatchString(l) {
			return "", invalid(op, "email", errAddr)
		}
	}
	addr := local + "@" + domain
	if a, err := netmail.ParseAddress(addr); err != nil || a.Address != addr || a.Name != "" {
		return "", invalid(op, "email", errAddr)
	}
	return addr, nil
}

// ParseFrom validates a sender as configured: a bare address or "Name
// <address>". It returns the envelope address and the header form.
func ParseFrom(s string) (envelope, header string, err error) {
	const op = "mail.ParseFrom"
	s = strings.TrimSpace(s)
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", "", invalid(op, "from", "发件人"+errCRLF)
	}
	a, perr := netmail.ParseAddress(s)
	if perr != nil {
		return "", "", invalid(op, "from", "发件人地址格式不正确，应为 name@example.com 或 名称 <name@example.com>")
	}
	addr, err := CheckAddress(a.Address)
	if err != nil {
		return "", "", invalid(op, "from", "发件人地址格式不正确，应为 name@example.com 或 名称 <name@example.com>")
	}
	if utf8.RuneCountInString(a.Name) > 100 {
		return "", "", invalid(op, "from", "发件人名称过长")
	}
	return addr, fromHeader(a.Name, addr), nil
}

// CheckSubject validates a subject: one line of at most MaxSubject
// characters, no control characters.
func CheckSubject(s string) error {
	const op = "mail.CheckSubject"
	if !utf8.ValidString(s) {
		return invalid(op, "subject", "邮件主题不是有效的文字")
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return invalid(op, "subject", "邮件主题"+errCRLF)
	}
	if strings.TrimSpace(s) == "" {
		return invalid(op, "subject", "请填写邮件主题")
	}
	if utf8.RuneCountInString(s) > MaxSubject {
		return invalid(op, "subject", fmt.Sprintf("邮件主题不能超过%d个字", MaxSubject))
	}
	return nil
}

// CheckText validates a body: valid UTF-8 of at most MaxText bytes, no
// control characters but tab and line breaks.
func CheckText(s string) error {
	const op = "mail.CheckText"
	if !utf8.ValidString(s) {
		return invalid(op, "text", "邮件正文不是有效的文字")
	}
	if len(s) > MaxText {
		return invalid(op, "text", "邮件正文过长")
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\r' && r != '\n' }) >= 0 {
		return invalid(op, "text", "邮件正文含有控制字符")
	}
	return nil
}

// Check validates every part of m and returns its envelope: the sender's
// address and the recipients' addresses, normalised.
func (m Message) Check() (from string, to []string, err error) {
	from, _, err = ParseFrom(m.From)
	if err != nil {
		return "", nil, err
	}
	if len(m.To) == 0 {
		return "", nil, invalid("mail.Message.Check", "email", errEmpty)
	}
	if len(m.To) > MaxRecipients {
		return "", nil, invalid("mail.Message.Check", "email", "收件人过多")
	}
	for _, t := range m.To {
		a, err := CheckAddress(t)
		if err != nil {
			return "", nil, err
		}
		to = append(to, a)
	}
	if err := CheckSubject(m.Subject); err != nil {
		return "", nil, err
	}
	if err := CheckText(m.Text); err != nil {
		return "", nil, err
	}
	return from, to, nil
}

// Bytes builds the message in RFC 5322 form with CRLF line ends and only
// ASCII bytes, ready for SMTP DATA. The Message-ID is <ID@sender's domain>.
func (m Message) Bytes() ([]byte, error) {
	from, to, err := m.Check()
	if err != nil {
		return nil, err
	}
	_, fromHdr, _ := ParseFrom(m.From)
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", fromHdr)
	header("To", strings.Join(to, ",\r\n "))
	header("Subject", EncodeHeader(m.Subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", messageID(m.ID, from))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	body := base64.StdEncoding.EncodeToString([]byte(crlf(m.Text)))
	for len(body) > maxLine {
		b.WriteString(body[:maxLine] + "\r\n")
		body = body[maxLine:]
	}
	if body != "" {
		b.WriteString(body + "\r\n")
	}
	if b.Len() > maxRaw {
		return nil, invalid("mail.Message.Bytes", "text", "邮件过大")
	}
	return b.Bytes(), nil
}

// EncodeHeader encodes an unstructured header value: short ASCII text as
// it is, anything else as RFC 2047 base64 encoded-words in UTF-8 of at
// most 60 characters each, one per folded line, so no line of the header
// exceeds 76 characters. The value must have passed CheckSubject.
func EncodeHeader(s string) string {
	// (Readers trim a header's outer spaces; encoded-words keep them.)
	if isASCII(s) && len(s) <= 60 && !strings.Contains(s, "=?") && strings.TrimSpace(s) == s {
		return s
	}
	return encodeWords(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// encodeWords encodes s as base64 encoded-words joined by folding white
// space, each holding at most 36 bytes of s cut at rune boundaries.
func encodeWords(s string) string {
	const chunk = 36 // 48 base64 characters + 12 of "=?utf-8?b??=" = 60
	var words []string
	for s != "" {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > chunk {
				break
			}
			n += size
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, "\r\n ")
}

// fromHeader is the From header's value: the address alone, or a name
// (quoted when short ASCII, else encoded-words) and the address on a
// folded line of its own.
func fromHeader(name, addr string) string {
	switch {
	case name == "":
		return "<" + addr + ">"
	case isASCII(name) && len(name) <= 40:
		return (&netmail.Address{Name: name, Address: addr}).String()
	}
	return encodeWords(name) + "\r\n <" + addr + ">"
}

// crlf makes every line end CRLF, as text/plain on the wire requires.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// messageID makes <id@domain-of-from>: stable when id is usable, else random.
func messageID(id, from string) string {
	if !msgIDRE.MatchString(id) {
		var r [16]byte
		rand.Read(r[:])
		id = hex.EncodeToString(r[:])
	}
	domain := from[strings.LastIndexByte(from, '@')+1:]
	return "<" + id + "@" + domain + ">"
}

// Log is a Sender that writes messages to a log instead of sending them:
// for the demo and machines without a mail server. Do not use it where the
// log is less protected than the mailboxes (it holds verification codes).
type Log struct {
	Log *slog.Logger
}

// Send checks m and logs it.
func (l Log) Send(ctx context.Context, m Message) error {
	_, to, err := m.Check()
	if err != nil {
		return err
	}
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "mail (log sender)", "to", strings.Join(to, ", "), "subject", m.Subject, "text", m.Text)
	return nil
}

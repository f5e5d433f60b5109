// Package mailtest is a tiny in-process SMTP server for tests: it listens on
// 127.0.0.1, offers STARTTLS (with a throwaway self-signed certificate) and
// AUTH PLAIN when asked to, and records every message it accepts. It
// implements just enough of RFC 5321 for net/smtp's client.
package mailtest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one accepted message.
type Message struct {
	From string   // envelope sender
	To   []string // envelope recipients
	Data []byte   // as received, dot-unstuffed, CRLF line ends
	TLS  bool     // whether the session was encrypted
	Auth string   // the user that authenticated, "" for none
}

// Options shape the server's behaviour.
type Options struct {
	StartTLS bool   // offer STARTTLS
	User     string // require AUTH PLAIN with User and Password when set
	Password string
	FailData int // answer 451 to the first FailData DATA commands
}

// Server is a running test server.
type Server struct {
	Addr      string      // 127.0.0.1:port
	ClientTLS *tls.Config // trusts the server's certificate
	opts      Options
	tls       *tls.Config
	ln        net.Listener
	mu        sync.Mutex
	msgs      []Message
	fails     int
	wg        sync.WaitGroup
}

// Start runs a server until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), opts: o, ln: ln}
	s.tls, s.ClientTLS = certs(t)
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

// Messages returns what was accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			s.session(c)
		}()
	}
}

func (s *Server) session(c net.Conn) {
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	reply := func(line string) {
		w.WriteString(line + "\r\n")
		w.Flush()
	}
	reply("220 mailtest ESMTP")
	var cur Message
	secure, user := false, ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ext := []string{"250-mailtest", "250-8BITMIME"}
			if s.opts.StartTLS && !secure {
				ext = append(ext, "250-STARTTLS")
			}
			if s.opts.User != "" {
				ext = append(ext, "250-AUTH PLAIN")
			}
			ext = append(ext, "250 SIZE 10485760")
			for _, e := range ext {
				w.WriteString(e + "\r\n")
			}
			w.Flush()
		case "HELO":
			reply("250 mailtest")
		case "STARTTLS":
			if !s.opts.StartTLS || secure {
				reply("502 not offered")
				continue
			}
			reply("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, secure = tc, true
			r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
			cur = Message{}
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				reply("504 unrecognised mechanism")
				continue
			}
			b, err := base64.StdEncoding.DecodeString(resp)
			parts := bytes.Split(b, []byte{0})
			if err != nil || len(parts) != 3 || string(parts[1]) != s.opts.User || string(parts[2]) != s.opts.Password {
				reply("535 authentication failed")
				continue
			}
			user = s.opts.User
			reply("235 ok")
		case "MAIL":
			if s.opts.User != "" && user == "" {
				reply("530 authentication required")
				continue
			}
			cur = Message{From: strings.Trim(strings.TrimPrefix(strings.Fields(arg + " ")[0], "FROM:"), "<>")}
			reply("250 ok")
		case "RCPT":
			cur.To = append(cur.To, strings.Trim(strings.TrimPrefix(arg, "TO:"), "<>"))
			reply("250 ok")
		case "DATA":
			s.mu.Lock()
			fail := s.fails < s.opts.FailData
			if fail {
				s.fails++
			}
			s.mu.Unlock()
			if fail {
				reply("451 try again later")
				continue
			}
			reply("354 end with .")
			var data bytes.Buffer
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.Data, cur.TLS, cur.Auth = data.Bytes(), secure, user
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			cur = Message{}
			reply("250 queued")
		case "RSET":
			cur = Message{}
			reply("250 ok")
		case "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("500 unknown command")
		}
	}
}

// certs makes a self-signed certificate for 127.0.0.1 and a client config
// that trusts it.
func certs(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

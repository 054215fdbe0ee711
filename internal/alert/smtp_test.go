package alert

import (
	"bufio"
	"encoding/base64"
	"net"
	"strings"
	"sync"
	"testing"
)

// mail is one message the test SMTP server took.
type mail struct {
	From string
	To   []string
	Auth string // decoded AUTH PLAIN response: "\x00user\x00password"
	Data string
}

// smtpServer is a minimal SMTP server on the loopback that records the
// messages it is sent (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT).
type smtpServer struct {
	ln    net.Listener
	mu    sync.Mutex
	mails []mail
	wg    sync.WaitGroup
}

func newSMTPServer(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.session(conn)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) received() []mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mail(nil), s.mails...)
}

func (s *smtpServer) session(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	say := func(line string) { conn.Write([]byte(line + "\r\n")) }
	say("220 test ESMTP")
	var m mail
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch {
		case verb == "EHLO" || verb == "HELO":
			say("250-test greets you")
			say("250-8BITMIME")
			say("250 AUTH PLAIN")
		case verb == "AUTH":
			parts := strings.Fields(line)
			if len(parts) == 3 {
				dec, _ := base64.StdEncoding.DecodeString(parts[2])
				m.Auth = string(dec)
			}
			say("235 2.7.0 Authentication successful")
		case verb == "MAIL":
			from := strings.TrimSpace(line[len("MAIL FROM:"):])
			if i := strings.Index(from, ">"); i >= 0 {
				from = from[:i]
			}
			m.From = strings.TrimPrefix(from, "<")
			say("250 OK")
		case verb == "RCPT":
			m.To = append(m.To, strings.Trim(strings.TrimSpace(line[len("RCPT TO:"):]), "<>"))
			say("250 OK")
		case verb == "DATA":
			say("354 end with <CRLF>.<CRLF>")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Data = b.String()
			s.mu.Lock()
			s.mails = append(s.mails, m)
			s.mu.Unlock()
			m = mail{}
			say("250 OK queued")
		case verb == "QUIT":
			say("221 bye")
			return
		default:
			say("250 OK")
		}
	}
}

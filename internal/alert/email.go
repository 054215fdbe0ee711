package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/config"
)

// MailOptions configure the SMTP connection of the status e-mail.
type MailOptions struct {
	Host     string
	Port     int
	TLS      string // config.SMTPStartTLS, config.SMTPTLS or config.SMTPNone
	Username string // empty: no authentication
	Password string // secret
	From     string
	To       []string
	Timeout  time.Duration // whole conversation; 30s when 0
}

// Mailer sends plain-text e-mail over SMTP (net/smtp).
type Mailer struct {
	o MailOptions
}

// NewMailer returns a Mailer, or an error when the host, sender or
// recipients are missing.
func NewMailer(o MailOptions) (*Mailer, error) {
	if o.Host == "" || o.From == "" || len(o.To) == 0 {
		return nil, errors.New("e-mail: need an SMTP host, a sender and at least one recipient")
	}
	if o.Port == 0 {
		o.Port = 587
	}
	if o.TLS == "" {
		o.TLS = config.SMTPStartTLS
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return &Mailer{o: o}, nil
}

// Send mails subject and body (plain text, UTF-8) to every recipient.
// Credentials are only sent over TLS, or to a server on the loopback.
func (m *Mailer) Send(ctx context.Context, subject, body string) error {
	msg, err := m.message(subject, body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.o.Timeout)
	defer cancel()
	addr := net.JoinHostPort(m.o.Host, strconv.Itoa(m.o.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("e-mail: connect to %s: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl) // bounds every read and write below
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if m.o.TLS == config.SMTPTLS {
		tc := tls.Client(conn, &tls.Config{ServerName: m.o.Host, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("e-mail: TLS with %s: %w", addr, err)
		}
		conn = tc
	}
	if err := m.converse(conn, msg); err != nil {
		return fmt.Errorf("e-mail via %s: %w", addr, scrubErr(err, m.o.Password))
	}
	return nil
}

// converse runs the SMTP conversation on an open connection.
func (m *Mailer) converse(conn net.Conn, msg []byte) error {
	c, err := smtp.NewClient(conn, m.o.Host)
	if err != nil {
		return err
	}
	defer c.Close()
	if m.o.TLS == config.SMTPStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("server does not offer STARTTLS (set alerts.email.tls: none for a plain local relay)")
		}
		if err := c.StartTLS(&tls.Config{ServerName: m.o.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if m.o.Username != "" {
		// PlainAuth itself refuses an unencrypted server other than localhost.
		if err := c.Auth(smtp.PlainAuth("", m.o.Username, m.o.Password, m.o.Host)); err != nil {
			return fmt.Errorf("authenticate: %w", err)
		}
	}
	if err := c.Mail(m.o.From); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, rcpt := range m.o.To {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	return c.Quit()
}

// message builds the RFC 5322 message: UTF-8 text, quoted-printable.
func (m *Mailer) message(subject, body string) ([]byte, error) {
	for _, h := range append([]string{m.o.From, subject}, m.o.To...) {
		if strings.ContainsAny(h, "\r\n") {
			return nil, errors.New("e-mail: header values must not contain line breaks")
		}
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	host := m.o.From[strings.LastIndex(m.o.From, "@")+1:]
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", m.o.From)
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(m.o.To, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id[:]), host)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n"))); err != nil {
		return nil, fmt.Errorf("e-mail: encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("e-mail: encode body: %w", err)
	}
	return b.Bytes(), nil
}

func scrubErr(err error, secret string) error {
	if secret != "" && strings.Contains(err.Error(), secret) {
		return errors.New(scrub(err.Error(), []string{secret}))
	}
	return err
}

package mysql

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/mysqldriver"
	"github.com/acode-dev/acode/internal/sandbox"
	"github.com/acode-dev/acode/internal/testenv"
)

// sslCipher is the TLS cipher of the session, "" when the connection is
// plain text.
func sslCipher(t *testing.T, cfg ConnConfig) (string, error) {
	t.Helper()
	db, err := Open(context.Background(), cfg)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var name, cipher string
	if err := db.QueryRow("SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil {
		t.Fatalf("Ssl_cipher: %v", err)
	}
	return cipher, nil
}

func TestOpen_TLSModes(t *testing.T) {
	t.Parallel()
	tlsSrv := testenv.StartMariaDB(t, testenv.MariaDBOptions{TLS: true})
	plain := testenv.SharedMariaDB(t)
	wrongCA, _, _, err := sandbox.NewCA("some other CA")
	if err != nil {
		t.Fatal(err)
	}
	onTLS := func(mode, ca string) ConnConfig {
		c := rootConfig(tlsSrv, "")
		c.TLSMode, c.CACertPEM = mode, ca
		return c
	}
	onPlain := func(mode string) ConnConfig {
		c := rootConfig(plain, "")
		c.TLSMode = mode
		return c
	}
	cases := []struct {
		name    string
		cfg     ConnConfig
		wantTLS bool
		wantErr func(error) bool
	}{
		{"preferred uses TLS when offered", onTLS(TLSPreferred, ""), true, nil},
		{"empty mode means preferred", onTLS("", ""), true, nil},
		{"preferred falls back to plain", onPlain(TLSPreferred), false, nil},
		{"disabled stays plain on a TLS server", onTLS(TLSDisabled, ""), false, nil},
		{"required on a TLS server", onTLS(TLSRequired, ""), true, nil},
		{"required fails on a plain server", onPlain(TLSRequired), false,
			func(err error) bool {
				return errors.Is(err, mysqldriver.ErrNoTLS) && strings.Contains(err.Error(), "does not offer TLS")
			}},
		{"verify_ca with the right CA", onTLS(TLSVerifyCA, tlsSrv.CACertPEM), true, nil},
		{"verify_ca with a wrong CA fails", onTLS(TLSVerifyCA, wrongCA), false,
			func(err error) bool { var u x509UnknownAuthority; return errors.As(err, &u) }},
		{"verify_ca without a CA is a config error", onTLS(TLSVerifyCA, ""), false,
			func(err error) bool { return errors.Is(err, ErrBadTLSConfig) }},
		{"verify_identity by IP in the cert", onTLS(TLSVerifyIdentity, tlsSrv.CACertPEM), true, nil},
		{"unknown mode is a config error", onTLS("sometimes", ""), false,
			func(err error) bool { return errors.Is(err, ErrBadTLSConfig) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cipher, err := sslCipher(t, tc.cfg)
			if tc.wantErr != nil {
				if err == nil || !tc.wantErr(err) {
					t.Fatalf("err = %v, want the expected failure", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if got := cipher != ""; got != tc.wantTLS {
				t.Fatalf("TLS in use = %v (cipher %q), want %v", got, cipher, tc.wantTLS)
			}
		})
	}
	t.Run("verify_identity with a name not in the certificate fails", func(t *testing.T) {
		t.Parallel()
		// 127.0.0.2 reaches the server through a forwarder but is not in
		// the certificate's SANs.
		c := onTLS(TLSVerifyIdentity, tlsSrv.CACertPEM)
		c.Host, c.Port = "127.0.0.2", forward(t, "127.0.0.2", tlsSrv.Addr())
		_, err := sslCipher(t, c)
		var hostErr x509HostnameError
		if !errors.As(err, &hostErr) {
			t.Fatalf("err = %v, want a host name mismatch", err)
		}
	})
	t.Run("REQUIRE SSL user refused without TLS, accepted with it", func(t *testing.T) {
		t.Parallel()
		tlsSrv.CreateUser(t, "tls_only", "s3cret-pw", true, "SELECT ON *.*")
		c := onTLS(TLSDisabled, "")
		c.User, c.Password = "tls_only", "s3cret-pw"
		if _, err := sslCipher(t, c); !isMySQLError(err, 1045) {
			t.Fatalf("plain login of a REQUIRE SSL user: err = %v, want MySQL 1045", err)
		}
		c.TLSMode = TLSRequired
		if cipher, err := sslCipher(t, c); err != nil || cipher == "" {
			t.Fatalf("TLS login: cipher %q err %v", cipher, err)
		}
	})
}

func TestOpen_WrongPasswordIsAccessDeniedWithoutPassword(t *testing.T) {
	t.Parallel()
	m := testenv.SharedMariaDB(t)
	m.CreateUser(t, "reader_pw", "right-password", false)
	cfg := rootConfig(m, "")
	cfg.User, cfg.Password = "reader_pw", "Wr0ngPassw0rd-XYZ"
	_, err := Open(context.Background(), cfg)
	var me *mysqldriver.MySQLError
	if !errors.As(err, &me) || me.Number != 1045 {
		t.Fatalf("err = %v, want MySQL 1045 in the chain", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "Wr0ngPassw0rd-XYZ") {
		t.Fatalf("error leaks the password: %s", msg)
	}
	if !strings.Contains(msg, m.Addr()) || !strings.Contains(msg, "reader_pw") {
		t.Fatalf("error %q should name %s and the user", msg, m.Addr())
	}
}

func TestOpen_UnreachablePortIsNetError(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := ConnConfig{Host: "127.0.0.1", Port: port, User: "root", Password: "pw-not-shown",
		TLSMode: TLSDisabled, ConnectTimeout: 2 * time.Second}
	_, err = Open(context.Background(), cfg)
	var ne net.Error
	if !errors.As(err, &ne) {
		t.Fatalf("err = %v (%T), want a net.Error in the chain", err, err)
	}
	if strings.Contains(err.Error(), "pw-not-shown") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

func TestOpen_PinsSessionUTCAndTextProtocolSettings(t *testing.T) {
	t.Parallel()
	m := testenv.SharedMariaDB(t)
	cfg := rootConfig(m, "")
	cfg.Params = "serverTimezone=America/Sao_Paulo&useSSL=false&zeroDateTimeBehavior=convertToNull&sessionVariables=sql_mode='',wait_timeout=1234&connectTimeout=5000"
	db, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var tz, charset, sqlMode string
	var wait int
	if err := db.QueryRow("SELECT @@session.time_zone, @@character_set_client, @@session.sql_mode, @@session.wait_timeout").
		Scan(&tz, &charset, &sqlMode, &wait); err != nil {
		t.Fatal(err)
	}
	if tz != "+00:00" || charset != "utf8mb4" || sqlMode != "" || wait != 1234 {
		t.Fatalf("session: time_zone=%q charset=%q sql_mode=%q wait_timeout=%d", tz, charset, sqlMode, wait)
	}
	warnings, err := ParamWarnings(cfg.Params)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(warnings, "\n")
	for _, k := range []string{"serverTimezone", "useSSL", "zeroDateTimeBehavior"} {
		if !strings.Contains(joined, k) {
			t.Errorf("no warning for ignored %s in %q", k, joined)
		}
	}
	if len(warnings) != 3 {
		t.Errorf("warnings = %q, want exactly the 3 ignored params", warnings)
	}
	if _, err := ParamWarnings("connectTimeout=soon"); err == nil || !strings.Contains(err.Error(), "connectTimeout") {
		t.Errorf("malformed connectTimeout: err = %v, want an error naming it", err)
	}
}

type (
	x509UnknownAuthority = x509.UnknownAuthorityError
	x509HostnameError    = x509.HostnameError
)

// forward listens on host and pipes every connection to target; it stops at
// cleanup.
func forward(t *testing.T, host, target string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("listen on %s: %v", host, err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(out, in); out.Close() }()
			go func() { defer wg.Done(); io.Copy(in, out); in.Close() }()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func TestOpen_SilentServerTimesOut(t *testing.T) {
	t.Parallel()
	// Accepts TCP and never sends the handshake, like a stalled proxy.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	cfg := ConnConfig{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, User: "root",
		TLSMode: TLSDisabled, ConnectTimeout: 700 * time.Millisecond}
	start := time.Now()
	_, err = Open(context.Background(), cfg)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline exceeded", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("gave up after %s, want about the 0.7 s connect timeout (err %v)", el, err)
	}
}

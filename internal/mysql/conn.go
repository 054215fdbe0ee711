package mysql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/acode-dev/acode/internal/mysqldriver"
)

// TLS modes, named as Airbyte's source-mysql ssl_mode names them.
const (
	TLSDisabled       = "disabled"
	TLSPreferred      = "preferred"
	TLSRequired       = "required"
	TLSVerifyCA       = "verify_ca"
	TLSVerifyIdentity = "verify_identity"
)

// DefaultConnectTimeout is source-mysql's connect timeout.
const DefaultConnectTimeout = 30 * time.Second

// ErrBadTLSConfig marks a TLS setting that cannot work (a verify mode
// without a CA, a PEM that does not parse): a configuration error, not a
// connection failure worth retrying.
var ErrBadTLSConfig = errors.New("invalid TLS configuration")

// ConnConfig is what a source needs to reach MySQL.
type ConnConfig struct {
	Host     string
	Port     int
	Database string
	User     string
	Password string
	// Params is jdbc_url_params, "k=v&k2=v2". Parameters with a Go
	// equivalent are applied; JDBC-only ones are ignored with a warning
	// (see ParamWarnings).
	Params string
	// TLSMode is disabled, preferred, required, verify_ca or
	// verify_identity; empty means preferred, source-mysql's default.
	TLSMode                                string
	CACertPEM, ClientCertPEM, ClientKeyPEM string
	ConnectTimeout                         time.Duration // default 30 s
	ReadTimeout                            time.Duration // 0: none
	MaxOpenConns                           int           // 0: unlimited
	// Compress turns on the protocol's compression (zlib) whatever Params
	// say; without it, Params decide (useCompression, compress).
	Compress bool
}

// Addr is host:port.
func (c ConnConfig) Addr() string {
	port := c.Port
	if port == 0 {
		port = 3306
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

// Open connects a pool to the server and pings it within ctx. Every
// connection uses the text protocol, utf8mb4 and time_zone '+00:00'.
// Errors name host:port and user, never the password.
func Open(ctx context.Context, cfg ConnConfig) (*sql.DB, error) {
	dc, warnings, err := cfg.driverConfig()
	if err != nil {
		return nil, fmt.Errorf("mysql %s as %s: %w", cfg.Addr(), cfg.User, err)
	}
	for _, w := range warnings {
		slog.WarnContext(ctx, "jdbc_url_params", "host", cfg.Host, "warning", w)
	}
	conn, err := mysqldriver.NewConnector(dc)
	if err != nil {
		return nil, fmt.Errorf("mysql %s as %s: %w", cfg.Addr(), cfg.User, err)
	}
	db := sql.OpenDB(timeoutConnector{conn, dc.Timeout})
	if cfg.MaxOpenConns > 0 {
		db.SetMaxOpenConns(cfg.MaxOpenConns)
		db.SetMaxIdleConns(cfg.MaxOpenConns)
	}
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, connectError(cfg, err)
	}
	return db, nil
}

// timeoutConnector bounds the whole connect (dial, TLS, handshake, auth,
// session settings) by the connect timeout: the driver's own timeout only
// covers the dial, and a server that accepts but never answers would hang.
type timeoutConnector struct {
	driver.Connector
	timeout time.Duration
}

func (c timeoutConnector) Connect(ctx context.Context) (driver.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.Connector.Connect(ctx)
}

func connectError(cfg ConnConfig, err error) error {
	if errors.Is(err, mysqldriver.ErrNoTLS) {
		return fmt.Errorf("mysql %s as %s: ssl_mode %s but the server does not offer TLS: %w",
			cfg.Addr(), cfg.User, cfg.TLSMode, err)
	}
	return fmt.Errorf("mysql %s as %s: %w", cfg.Addr(), cfg.User, err)
}

// driverConfig builds the driver's configuration and the warnings for
// ignored jdbc_url_params.
func (c ConnConfig) driverConfig() (*mysqldriver.Config, []string, error) {
	dc := mysqldriver.NewConfig()
	dc.User = c.User
	dc.Passwd = c.Password
	dc.Net = "tcp"
	dc.Addr = c.Addr()
	dc.DBName = c.Database
	dc.Timeout = c.ConnectTimeout
	if dc.Timeout <= 0 {
		dc.Timeout = DefaultConnectTimeout
	}
	dc.ReadTimeout = c.ReadTimeout
	warnings, err := applyParams(dc, c.Params)
	if err != nil {
		return nil, nil, err
	}
	if c.Compress {
		if err := dc.Apply(mysqldriver.EnableCompression(true)); err != nil {
			return nil, nil, err
		}
	}
	// Pinned after the params so nothing overrides them: values as text,
	// exact strings, UTC.
	dc.InterpolateParams = true
	dc.ParseTime = false
	dc.Loc = time.UTC
	dc.MaxAllowedPacket = 0 // read max_allowed_packet from the server
	if err := dc.Apply(mysqldriver.Charset("utf8mb4", "utf8mb4_general_ci")); err != nil {
		return nil, nil, err
	}
	if dc.Params == nil {
		dc.Params = map[string]string{}
	}
	dc.Params["time_zone"] = "'+00:00'"
	if _, ok := dc.Params["net_write_timeout"]; !ok {
		// A reader that waits on a slow upload must not be cut off by the
		// server's 60 s default.
		dc.Params["net_write_timeout"] = "3600"
	}
	tc, fallback, err := c.tlsConfig()
	if err != nil {
		return nil, nil, err
	}
	dc.TLS = tc
	dc.AllowFallbackToPlaintext = fallback
	dc.DialFunc = dialBuffered
	return dc, warnings, nil
}

// tlsConfig maps the ssl mode to a tls.Config and whether plain text is an
// acceptable fallback.
func (c ConnConfig) tlsConfig() (*tls.Config, bool, error) {
	mode := c.TLSMode
	if mode == "" {
		mode = TLSPreferred
	}
	var roots *x509.CertPool
	if c.CACertPEM != "" {
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM([]byte(c.CACertPEM)) {
			return nil, false, fmt.Errorf("%w: CA certificate is not PEM", ErrBadTLSConfig)
		}
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.ClientCertPEM != "" || c.ClientKeyPEM != "" {
		pair, err := tls.X509KeyPair([]byte(c.ClientCertPEM), []byte(c.ClientKeyPEM))
		if err != nil {
			return nil, false, fmt.Errorf("%w: client certificate and key: %v", ErrBadTLSConfig, err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	switch mode {
	case TLSDisabled:
		return nil, false, nil
	case TLSPreferred:
		tc.InsecureSkipVerify = true
		return tc, true, nil
	case TLSRequired:
		tc.InsecureSkipVerify = true
		return tc, false, nil
	case TLSVerifyCA:
		if roots == nil {
			return nil, false, fmt.Errorf("%w: ssl_mode verify_ca needs a CA certificate", ErrBadTLSConfig)
		}
		// Chain only: Go's own check would also match the host name.
		tc.InsecureSkipVerify = true
		tc.VerifyPeerCertificate = verifyChain(roots)
		return tc, false, nil
	case TLSVerifyIdentity:
		tc.RootCAs = roots // nil: the system pool
		tc.ServerName = c.Host
		return tc, false, nil
	default:
		return nil, false, fmt.Errorf("%w: unknown ssl_mode %q (want disabled, preferred, required, verify_ca or verify_identity)",
			ErrBadTLSConfig, mode)
	}
}

// verifyChain checks that the server's certificate chains to roots, without
// looking at the host name (verify_ca).
func verifyChain(roots *x509.CertPool) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("server sent no certificate")
		}
		certs := make([]*x509.Certificate, len(raw))
		for i, r := range raw {
			c, err := x509.ParseCertificate(r)
			if err != nil {
				return fmt.Errorf("parse server certificate: %w", err)
			}
			certs[i] = c
		}
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
		return err
	}
}

package config

import (
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SSL modes of source-mysql's ssl_mode.mode.
const (
	SSLPreferred      = "preferred"       // TLS when the server offers it, plain otherwise
	SSLRequired       = "required"        // TLS, certificate not checked
	SSLVerifyCA       = "verify_ca"       // TLS, certificate signed by CACertificate
	SSLVerifyIdentity = "verify_identity" // verify_ca plus the host name
	SSLDisabled       = "disabled"        // plain connection
)

// Replication methods of source-mysql.
const (
	ReplicationStandard = "STANDARD"
	ReplicationCDC      = "CDC"
)

// What a CDC reader does when the server no longer holds its checkpoint's
// binlog (replication_method.invalid_cdc_cursor_position_behavior, the
// values of source-mysql).
const (
	CursorFailSync = "Fail sync"    // stop the reader and alert
	CursorResync   = "Re-sync data" // alert, backfill the streams again by ranges, go on from there
)

// Source is a MySQL source (airbyte/source-mysql's configuration).
type Source struct {
	File         string // absolute path of its configuration.yaml
	ResourceName string

	Host              string
	Port              int
	Database          string
	Username          string
	Password          Secret // read through Secrets() where ReloadSecrets may run
	JDBCURLParams     string // "key=value&key2=value2", as source-mysql takes them
	SSL               SSLMode
	ReplicationMethod string // ReplicationStandard or ReplicationCDC
	// InvalidCursor is invalid_cdc_cursor_position_behavior: CursorFailSync
	// (the default) or CursorResync.
	InvalidCursor string

	project *Project // the project it was loaded with, for RefreshSecrets
}

// SSLMode is source-mysql's ssl_mode. Certificates are PEM text, as Airbyte
// takes them; acode also accepts a path to a PEM file (relative to the config
// dir) and reads it at load time.
type SSLMode struct {
	Mode              string // one of the SSL* constants
	CACertificate     string
	ClientCertificate string
	ClientKey         Secret
	ClientKeyPassword Secret
}

// Addr is host:port, for dialing and for messages.
func (s *Source) Addr() string { return fmt.Sprintf("%s:%d", s.Host, s.Port) }

func (l *loader) decodeSource(f *fileDecoder, root *mapNode, file string) *Source {
	s := &Source{File: file, Port: 3306, ReplicationMethod: ReplicationStandard, InvalidCursor: CursorFailSync}
	l.octaviaHeader(root, "source", &s.ResourceName)
	cfg := root.child("configuration")
	root.finish()
	if cfg == nil {
		root.missing("configuration")
		return s
	}
	cfg.required("host", &s.Host)
	cfg.integer("port", &s.Port, 1, 65535)
	cfg.required("database", &s.Database)
	cfg.required("username", &s.Username)
	cfg.secret("password", &s.Password)
	cfg.str("jdbc_url_params", &s.JDBCURLParams)

	sslOn := true
	cfg.boolean("ssl", &sslOn) // deprecated by ssl_mode, which wins when present
	s.SSL.Mode = SSLPreferred
	if !sslOn {
		s.SSL.Mode = SSLDisabled
	}
	if m := cfg.child("ssl_mode"); m != nil {
		l.decodeSSLMode(m, &s.SSL)
	}
	decodeReplication(cfg, s)
	decodeTunnel(cfg)
	cfg.finish()
	return s
}

func (l *loader) decodeSSLMode(m *mapNode, ssl *SSLMode) {
	if !m.enum("mode", &ssl.Mode, SSLPreferred, SSLRequired, SSLVerifyCA, SSLVerifyIdentity, SSLDisabled, "disable") {
		m.missing("mode")
	}
	if ssl.Mode == "disable" {
		ssl.Mode = SSLDisabled
	}
	ssl.CACertificate = l.pemValue(m, "ca_certificate", false)
	ssl.ClientCertificate = l.pemValue(m, "client_certificate", false)
	ssl.ClientKey = Secret(l.pemValue(m, "client_key", true))
	m.secret("client_key_password", &ssl.ClientKeyPassword)
	if (ssl.Mode == SSLVerifyCA || ssl.Mode == SSLVerifyIdentity) && ssl.CACertificate == "" && !m.wasBad("ca_certificate") {
		m.errorf("ca_certificate", "required when mode is %s (PEM text or a path to a PEM file)", ssl.Mode)
	}
	if (ssl.ClientCertificate == "") != (ssl.ClientKey == "") && !m.wasBad("client_certificate") && !m.wasBad("client_key") {
		m.errorf("client_key", "client_certificate and client_key go together: set both or neither")
	}
	m.finish()
}

// pemValue reads a certificate or key: PEM text inline, or a path to a PEM
// file relative to the config dir. A secret's value (which may be a mistyped
// key) never reaches a message.
func (l *loader) pemValue(m *mapNode, key string, secret bool) string {
	var v string
	if !m.str(key, &v) || strings.TrimSpace(v) == "" {
		return ""
	}
	if !strings.Contains(v, "-----BEGIN") {
		path := l.resolve(strings.TrimSpace(v))
		data, err := os.ReadFile(path)
		switch {
		case err != nil && secret:
			m.errorf(key, "neither PEM text nor the path of a readable file")
			return ""
		case err != nil:
			m.errorf(key, "neither PEM text nor the path of a readable file: %v", err)
			return ""
		}
		v = string(data)
	}
	if block, _ := pem.Decode([]byte(v)); block == nil {
		m.errorf(key, "does not hold a PEM block (-----BEGIN ...-----)")
		return ""
	}
	return v
}

// decodeReplication accepts replication_method both as source-mysql 1.x's
// mapping {method: STANDARD} and as the older plain string.
func decodeReplication(cfg *mapNode, s *Source) {
	dst := &s.ReplicationMethod
	if !cfg.has("replication_method") {
		return
	}
	_, v := cfg.entry("replication_method")
	if v.Kind != yaml.MappingNode {
		cfg.enum("replication_method", dst, ReplicationStandard, ReplicationCDC)
		return
	}
	m := cfg.child("replication_method")
	if !m.enum("method", dst, ReplicationStandard, ReplicationCDC) {
		m.missing("method")
	}
	m.enum("invalid_cdc_cursor_position_behavior", &s.InvalidCursor, CursorFailSync, CursorResync)
	// CDC tuning of source-mysql. acode's reader starts at once and reads
	// binlog times in UTC, so these are accepted and change nothing.
	m.ignore("initial_waiting_seconds", "server_time_zone", "initial_load_timeout_hours")
	m.finish()
}

// decodeTunnel accepts tunnel_method NO_TUNNEL. SSH tunnels are refused
// rather than silently ignored: ignoring them would connect elsewhere.
func decodeTunnel(cfg *mapNode) {
	m := cfg.child("tunnel_method")
	if m == nil {
		return
	}
	var method string
	if m.str("tunnel_method", &method) && method != "NO_TUNNEL" && !m.wasBad("tunnel_method") {
		m.errorf("tunnel_method", "%q is not supported: acode connects directly (NO_TUNNEL); open the tunnel outside acode and point host/port at it", method)
	}
	m.ignore("tunnel_host", "tunnel_port", "tunnel_user", "ssh_key", "tunnel_user_password")
	m.finish()
}

package mysql

import "crypto/tls"

// TLSConfig is the TLS configuration the ssl mode asks for, for clients
// that do not go through database/sql (the binlog reader); fallback says
// that plain text is acceptable when the server offers no TLS (preferred).
// nil with fallback false means plain text (disabled).
func (c ConnConfig) TLSConfig() (cfg *tls.Config, fallback bool, err error) {
	return c.tlsConfig()
}

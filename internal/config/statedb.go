package config

import (
	"net/url"
	"strings"
)

// isPostgresURL reports whether a state_db value names a PostgreSQL
// database instead of a SQLite file (the state package opens either).
func isPostgresURL(v string) bool {
	l := strings.ToLower(v)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// checkPostgresURL returns what is wrong with a state_db URL, or "". The
// message never quotes the URL: after ${VAR} expansion it may hold a
// password.
func checkPostgresURL(v string) string {
	u, err := url.Parse(v)
	if err != nil {
		return "not a valid postgres:// URL (check the characters of the password: escape them as in a URL, e.g. %40 for @)"
	}
	if u.Host == "" {
		return "postgres:// URL names no host; write postgres://USER:${PASSWORD}@HOST:5432/DATABASE"
	}
	if strings.Trim(u.Path, "/") == "" {
		return "postgres:// URL names no database; write postgres://USER:${PASSWORD}@HOST:5432/DATABASE"
	}
	return ""
}

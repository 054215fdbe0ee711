package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Secret holds a password, key or token read from the configuration. Every
// way of printing or encoding it (fmt verbs, JSON, text, YAML, slog) shows
// "******" instead of the value, so a Secret that ends up in a log line, an
// error, a job record or a manifest by mistake leaks nothing. An empty Secret
// prints as empty so that "not set" stays visible. Reveal is the only way to
// get the value, and should be called only where it is handed to a driver.
type Secret string

const redacted = "******"

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String redacts the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts the value for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// Format redacts the value for every fmt verb (%v, %s, %q, %x, %d...).
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.String())
}

// MarshalJSON redacts the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText redacts the value for encoders that use encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalYAML redacts the value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// LogValue redacts the value in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

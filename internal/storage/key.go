package storage

import (
	"fmt"
	"strings"
)

// ValidateKey reports whether key obeys the Store contract: non-empty,
// '/'-separated, relative, with no empty, "." or ".." segment. A key that
// passes can be joined under a directory without escaping it. The error
// wraps ErrInvalidKey.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	if strings.HasSuffix(key, "/") {
		return fmt.Errorf("%w %q: ends with '/'", ErrInvalidKey, key)
	}
	return validatePath(key)
}

// ValidatePrefix checks a List prefix: empty (everything) or a string whose
// complete segments (those before the last '/') are valid key segments; the
// last, partial segment is free ("a/.h" may match "a/.hidden").
func ValidatePrefix(prefix string) error {
	if strings.ContainsRune(prefix, '\\') || strings.ContainsRune(prefix, 0) {
		return fmt.Errorf("%w prefix %q: contains '\\' or NUL", ErrInvalidKey, prefix)
	}
	i := strings.LastIndexByte(prefix, '/')
	if i < 0 {
		return nil
	}
	return validatePath(prefix[:i])
}

func validatePath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") {
		return fmt.Errorf("%w %q: must be relative (no leading '/')", ErrInvalidKey, p)
	}
	if strings.ContainsRune(p, '\\') || strings.ContainsRune(p, 0) {
		return fmt.Errorf("%w %q: contains '\\' or NUL", ErrInvalidKey, p)
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w %q: empty segment", ErrInvalidKey, p)
		case ".", "..":
			return fmt.Errorf("%w %q: %q segment", ErrInvalidKey, p, seg)
		}
	}
	return nil
}

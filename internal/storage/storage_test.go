package storage_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/storage"
)

func TestValidateKey(t *testing.T) {
	t.Parallel()
	good := []string{"a", "a/b", "bronze/x/cog_dt_ingestion=2025-08-07/f.parquet", "..a", "a/.hidden", "ç/ã"}
	bad := []string{"", "/a", "a/", "a//b", "..", "a/..", "../a", "a/./b", ".", `a\b`, "a\x00b"}
	for _, k := range good {
		if err := storage.ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v; want ok", k, err)
		}
	}
	for _, k := range bad {
		if err := storage.ValidateKey(k); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v; want ErrInvalidKey", k, err)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "a", "a/", "a/b", "a/b/", "a/.", "a/.."} {
		if err := storage.ValidatePrefix(p); err != nil {
			t.Errorf("ValidatePrefix(%q) = %v; want ok (last segment is partial)", p, err)
		}
	}
	for _, p := range []string{"/", "/a", "../", "a/../", "a//", "./x"} {
		if err := storage.ValidatePrefix(p); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("ValidatePrefix(%q) = %v; want ErrInvalidKey", p, err)
		}
	}
}

func TestGuardReader(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	if b, err := io.ReadAll(storage.GuardReader(ctx, strings.NewReader("12345"), 5)); err != nil || string(b) != "12345" {
		t.Errorf("exact size: %q, %v", b, err)
	}
	if _, err := io.ReadAll(storage.GuardReader(ctx, strings.NewReader("12345"), -1)); err != nil {
		t.Errorf("unknown size: %v", err)
	}
	for _, size := range []int64{4, 6, 0} {
		if _, err := io.ReadAll(storage.GuardReader(ctx, strings.NewReader("12345"), size)); !errors.Is(err, storage.ErrSizeMismatch) {
			t.Errorf("5 bytes announced as %d: %v; want ErrSizeMismatch", size, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := io.ReadAll(storage.GuardReader(cctx, strings.NewReader("12345"), 5)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v; want context.Canceled", err)
	}
}

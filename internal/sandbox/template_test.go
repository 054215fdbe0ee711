package sandbox

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

func templateDir() string {
	tmpl.mu.Lock()
	defer tmpl.mu.Unlock()
	return tmpl.dir
}

// Two servers copy one bootstrapped template, both work, and the template
// goes with the last Close.
func TestStart_ServersShareOneBootstrapRemovedWithTheLast(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MariaDB; skipped with -short")
	}
	if err := Available(); err != nil {
		t.Fatal(err)
	}
	a, err := Start(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := templateDir()
	b, err := Start(t.TempDir(), Options{})
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	if dir == "" || templateDir() != dir {
		t.Errorf("template %q after the first start, %q after the second: want one", dir, templateDir())
	}
	for _, s := range []*Server{a, b} {
		db, err := s.Root()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(context.Background(), "CREATE DATABASE d"); err != nil {
			t.Errorf("server on %s: %v", s.Addr(), err)
		}
	}
	a.Close()
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("template gone while a server copied from it is open: %v", err)
	}
	b.Close()
	b.Close() // twice: releases once
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("template %s left after the last Close: %v", dir, err)
	}
}

func TestRemoveStaleTemplates_OnlyThoseOfDeadProcesses(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(os.TempDir(), templatePrefix+strconv.Itoa(dead.Process.Pid)+"-1")
	mine := filepath.Join(os.TempDir(), templatePrefix+strconv.Itoa(os.Getpid())+"-2")
	alive := filepath.Join(os.TempDir(), templatePrefix+strconv.Itoa(os.Getppid())+"-3")
	for _, d := range []string{stale, mine, alive} {
		if err := os.MkdirAll(filepath.Join(d, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	removeStaleTemplates()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a dead process's template stays: %v", err)
	}
	for _, d := range []string{mine, alive} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("a live process's template was removed: %v", err)
		}
	}
}

func TestCopyTree_SameBytesHolesForZeros(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "copy")
	data := append(append(bytes.Repeat([]byte{0}, 4<<20), "middle"...), bytes.Repeat([]byte{0}, 100_001)...)
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "sub", "f"), data, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dst, "sub", "f"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("copy differs (%d bytes, want %d): %v", len(got), len(data), err)
	}
	st, err := os.Stat(filepath.Join(dst, "sub", "f"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", st.Mode().Perm())
	}
	if blocks := st.Sys().(*syscall.Stat_t).Blocks * 512; blocks >= 1<<20 {
		t.Errorf("copy of a 4 MiB file of zeros allocates %d bytes: not sparse", blocks)
	}
}

// A server started again on the directory of one that stopped keeps its
// data (acode bench --dir reuses the table it filled).
func TestStart_AgainOnItsDirectoryKeepsTheData(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MariaDB; skipped with -short")
	}
	if err := Available(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx := context.Background()
	a, err := Start(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := a.Root()
	if err == nil {
		_, err = db.ExecContext(ctx, "CREATE DATABASE kept")
	}
	a.Close()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Start(dir, Options{})
	if err != nil {
		t.Fatalf("start again on %s: %v", dir, err)
	}
	defer b.Close()
	db, err = b.Root()
	if err != nil {
		t.Fatal(err)
	}
	var name string
	if err := db.QueryRowContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'kept'").Scan(&name); err != nil {
		t.Errorf("database created before the restart: %v", err)
	}
}

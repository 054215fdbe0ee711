package deploy

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const modulePath = "github.com/acode-dev/acode"

// TestGoInstall_FromModuleProxy installs the command the way a user does,
// `go install github.com/acode-dev/acode/cmd/acode@version`, from a file
// module proxy that serves this tree as a module zip. The go command
// refuses a module with replace directives there and builds only what the
// zip holds (no nested module, no file outside the module), so this fails
// if the tree is installable only from a checkout. Dependencies come from
// the local module cache, so the test needs no network.
func TestGoInstall_FromModuleProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command from a module zip; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	gomodcache := goEnv(t, ctx, "GOMODCACHE")
	version := fmt.Sprintf("v0.0.0-installtest.%d", time.Now().UnixNano())
	proxy := t.TempDir()
	writeProxy(t, ctx, proxy, version)
	t.Cleanup(func() { removeFromModCache(t, gomodcache, version) })

	gobin := t.TempDir()
	install := exec.CommandContext(ctx, "go", "install", modulePath+"/cmd/acode@"+version)
	install.Dir = t.TempDir() // outside any module: no go.mod, no go.work
	install.Env = append(os.Environ(),
		"GOBIN="+gobin,
		// acode from the zip; everything else is already in the module cache.
		// No checksum database: the test version is in none, and the
		// dependencies' sums are checked against what the cache holds.
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",off",
		"GOSUMDB=off", "GOFLAGS=-modcacherw",
		"GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install %s/cmd/acode@%s: %v\n%s", modulePath, version, err, out)
	}

	bin := filepath.Join(gobin, "acode")
	help, err := exec.CommandContext(ctx, bin, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(help), "sync") {
		t.Fatalf("installed acode --help: %v\n%s", err, help)
	}
	info, err := exec.CommandContext(ctx, "go", "version", "-m", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, info)
	}
	if !regexp.MustCompile(`(?m)^\s+mod\s+` + modulePath + `\s+` + version + `\s`).MatchString(string(info)) {
		t.Errorf("installed binary is not module %s %s:\n%s", modulePath, version, info)
	}
	// The driver is internal/mysqldriver; no upstream copy rides along
	// (it would also register "mysql" with database/sql).
	if strings.Contains(string(info), "github.com/go-sql-driver/mysql") || strings.Contains(string(info), "=>") {
		t.Errorf("installed binary depends on upstream go-sql-driver/mysql or a replacement:\n%s", info)
	}
}

// writeProxy lays out a GOPROXY directory serving the tree at ".." as
// modulePath@version: list, .info, .mod and the module zip.
func writeProxy(t *testing.T, ctx context.Context, proxy, version string) {
	t.Helper()
	dir := filepath.Join(proxy, filepath.FromSlash(modulePath), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	goMod := readFile(t, "../go.mod")
	info, err := json.Marshal(map[string]any{"Version": version, "Time": time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": info,
		version + ".mod":  goMod,
		version + ".zip":  moduleZip(t, ctx, version),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// moduleZip zips the repository's files (tracked and untracked, not
// ignored) under modulePath@version/, as `go mod download` would fetch
// them. Subtrees with their own go.mod are other modules and left out, as
// the go command leaves them out.
func moduleZip(t *testing.T, ctx context.Context, version string) []byte {
	t.Helper()
	ls := exec.CommandContext(ctx, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	ls.Dir = ".."
	out, err := ls.Output()
	if err != nil {
		t.Fatalf("git ls-files (the module zip is built from the checkout): %v", err)
	}
	var names []string
	nested := map[string]bool{}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if _, err := os.Stat(filepath.Join("..", name)); err != nil {
			continue // deleted in the work tree, not yet in the index
		}
		if dir := filepath.Dir(name); filepath.Base(name) == "go.mod" && dir != "." {
			nested[dir] = true
		}
		names = append(names, name)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range names {
		if inNested(name, nested) {
			continue
		}
		data, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(modulePath + "@" + version + "/" + filepath.ToSlash(name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func inNested(name string, nested map[string]bool) bool {
	for dir := filepath.Dir(name); dir != "." && dir != "/"; dir = filepath.Dir(dir) {
		if nested[dir] {
			return true
		}
	}
	return false
}

// removeFromModCache deletes what the install put in the shared module
// cache for the test's version (extracted tree and download cache), so runs
// do not accumulate.
func removeFromModCache(t *testing.T, gomodcache, version string) {
	t.Helper()
	_ = os.RemoveAll(filepath.Join(gomodcache, filepath.FromSlash(modulePath)+"@"+version))
	dl := filepath.Join(gomodcache, "cache", "download", filepath.FromSlash(modulePath), "@v")
	matches, _ := filepath.Glob(filepath.Join(dl, version+".*"))
	for _, m := range matches {
		_ = os.Remove(m)
	}
	// The go command's "list" is all that is left unless another version
	// of acode is cached: then the directories go too.
	if left, _ := os.ReadDir(dl); len(left) == 1 && left[0].Name() == "list" {
		_ = os.RemoveAll(filepath.Dir(dl))
	}
	for _, dir := range []string{filepath.Dir(filepath.Dir(dl)), filepath.Join(gomodcache, filepath.Dir(filepath.FromSlash(modulePath)))} {
		_ = os.Remove(dir) // only if empty
	}
}

func goEnv(t *testing.T, ctx context.Context, key string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, "go", "env", key).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", key, err)
	}
	return strings.TrimSpace(string(out))
}

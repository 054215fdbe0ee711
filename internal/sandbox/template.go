package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// A data directory bootstrapped once per process and copied for each
// server. mariadb-install-db takes seconds (it runs a bootstrap server and
// writes a 96 MiB redo log, mostly zeros); a sparse copy of the 6 MiB that
// are not zeros takes milliseconds. A test binary starting a dozen servers,
// or the demo starting a primary and its replica, bootstraps once.
//
// The template lives while a server copied from it is open and is removed
// with the last one's Close; one left by a process that died is removed by
// the next process that makes a template.
var tmpl struct {
	mu    sync.Mutex
	dir   string // holds data/ and tmp/; "" when there is none
	users int    // open servers whose data came from it
}

const templatePrefix = "acode-mariadb-template-"

// acquireTemplate returns the template's data directory, bootstrapping it
// when there is none, and counts one more user.
func acquireTemplate() (string, error) {
	tmpl.mu.Lock()
	defer tmpl.mu.Unlock()
	if tmpl.dir == "" {
		removeStaleTemplates()
		dir, err := os.MkdirTemp("", templatePrefix+strconv.Itoa(os.Getpid())+"-")
		if err != nil {
			return "", fmt.Errorf("create MariaDB template dir: %w", err)
		}
		if err := bootstrap(dir); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
		tmpl.dir = dir
	}
	tmpl.users++
	return filepath.Join(tmpl.dir, "data"), nil
}

// releaseTemplate counts one user less and removes the template after the
// last.
func releaseTemplate() {
	tmpl.mu.Lock()
	defer tmpl.mu.Unlock()
	tmpl.users--
	if tmpl.users <= 0 && tmpl.dir != "" {
		os.RemoveAll(tmpl.dir)
		tmpl.dir, tmpl.users = "", 0
	}
}

// bootstrap runs mariadb-install-db into dir/data.
func bootstrap(dir string) error {
	installDB, err := findBinary("mariadb-install-db")
	if err != nil {
		return err
	}
	// A private tmpdir: concurrent bootstraps collide on temp table names in /tmp.
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("create tmpdir: %w", err)
	}
	cmd := exec.Command(installDB, "--no-defaults", "--datadir="+filepath.Join(dir, "data"),
		"--user=root", "--auth-root-authentication-method=normal", "--skip-test-db", "--tmpdir="+tmp)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mariadb-install-db: %w\n%s", err, out)
	}
	return nil
}

// removeStaleTemplates removes the templates of processes that are gone.
func removeStaleTemplates() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), templatePrefix+"*"))
	for _, dir := range dirs {
		pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(filepath.Base(dir), templatePrefix), "-", 2)[0])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(dir)
		}
	}
}

// copyTree copies the directory src to dst (which must not exist), keeping
// modes and leaving holes where src has zero blocks.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Mkdir(target, info.Mode().Perm())
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("copy %s: not a regular file", path)
		}
		return copySparse(path, target, info)
	})
}

// copySparse copies one file, seeking over all-zero blocks.
func copySparse(src, dst string, info fs.FileInfo) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, info.Mode().Perm())
	if err != nil {
		return err
	}
	buf, zero := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		n, rerr := io.ReadFull(in, buf)
		if n > 0 {
			if bytes.Equal(buf[:n], zero[:n]) {
				_, err = out.Seek(int64(n), io.SeekCurrent)
			} else {
				_, err = out.Write(buf[:n])
			}
			if err != nil {
				out.Close()
				return fmt.Errorf("copy %s: %w", src, err)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			out.Close()
			return fmt.Errorf("copy %s: %w", src, rerr)
		}
	}
	if err := out.Truncate(info.Size()); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}

package config

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoad_FileReferenceReadsASecretFile(t *testing.T) {
	t.Parallel()
	dir := writeProject(t,
		edit{srcFile, "password: ${DB_PASS}", "password: ${file:secrets/db_pass}"},
		edit{dstFile, "s3_bucket_path: p", "s3_bucket_path: p\n  access_key_id: ${file:" + "ABS/ak}\n  secret_access_key: ${file:ABS/sk}"})
	abs := filepath.Join(dir, "abs")
	writeSecret(t, filepath.Join(dir, "secrets", "db_pass"), "file-Pass-1\n")
	writeSecret(t, filepath.Join(abs, "ak"), "AKIAFILE")
	writeSecret(t, filepath.Join(abs, "sk"), "file/secret\r\n")
	replaceIn(t, filepath.Join(dir, dstFile), "ABS", abs)
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Sources["src"].Secrets().Password.Reveal(); got != "file-Pass-1" {
		t.Errorf("password %q, want the relative file's content without its newline", got)
	}
	if k := p.Destinations["dst"].Keys(); k.AccessKeyID.Reveal() != "AKIAFILE" || k.SecretAccessKey.Reveal() != "file/secret" {
		t.Errorf("keys from absolute files: %q %q", k.AccessKeyID.Reveal(), k.SecretAccessKey.Reveal())
	}
}

func TestLoad_MissingSecretFileNamesFileLineAndPath(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{srcFile, "password: ${DB_PASS}", "password: ${file:secrets/none}"})
	_, err := Load(dir, minimalEnv)
	if err == nil {
		t.Fatal("a missing secret file loaded")
	}
	msg := err.Error()
	for _, want := range []string{srcFile + ":8", "password", "secrets/none", "no such file"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
}

func TestLoad_FileReferenceStaysLiteralInPathFormats(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{dstFile, "s3_bucket_path: p", "s3_bucket_path: p\n  s3_path_format: \"${STREAM_NAME}/${file:x}\""})
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Destinations["dst"].PathFormat; got != "${STREAM_NAME}/${file:x}" {
		t.Errorf("path format %q", got)
	}
}

func TestReloadSecrets_TakesRotatedFilesAndNamesWhatChanged(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{srcFile, "password: ${DB_PASS}", "password: ${file:pass}"})
	writeSecret(t, filepath.Join(dir, "pass"), "old-pass")
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	src := p.Sources["src"]
	if changed, err := src.RefreshSecrets(); err != nil || changed {
		t.Fatalf("nothing rotated: changed %v, err %v", changed, err)
	}
	// Readers run beside a reload (go test -race checks the locking).
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_ = src.Secrets().Password.Reveal()
			}
		}
	}()
	writeSecret(t, filepath.Join(dir, "pass"), "new-pass\n")
	changed, err := p.ReloadSecrets()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(changed, ",") != "src password" {
		t.Errorf("changed %v, want [src password]", changed)
	}
	if got := src.Secrets().Password.Reveal(); got != "new-pass" {
		t.Errorf("password after reload %q", got)
	}
	// A file that no longer loads changes nothing and says why.
	if err := os.Remove(filepath.Join(dir, "pass")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ReloadSecrets(); err == nil || !strings.Contains(err.Error(), "pass") {
		t.Errorf("reload with the file gone: %v", err)
	}
	if got := src.Secrets().Password.Reveal(); got != "new-pass" {
		t.Errorf("a failed reload changed the password to %q", got)
	}
	if strings.Contains(strings.Join(changed, ","), "new-pass") {
		t.Error("the change list holds the value")
	}
}

func writeSecret(t *testing.T, path, v string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(v), 0o600); err != nil {
		t.Fatal(err)
	}
}

func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(data), old, new)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReloadSecrets_TakesARotatedAWSKey(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{dstFile, "s3_bucket_path: p", "s3_bucket_path: p\n  access_key_id: ${file:aws/id}\n  secret_access_key: ${file:aws/secret}"})
	writeSecret(t, filepath.Join(dir, "aws", "id"), "AKIAOLD")
	writeSecret(t, filepath.Join(dir, "aws", "secret"), "old-secret")
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	writeSecret(t, filepath.Join(dir, "aws", "id"), "AKIANEW")
	writeSecret(t, filepath.Join(dir, "aws", "secret"), "new-secret")
	changed, err := p.ReloadSecrets()
	if err != nil || strings.Join(changed, ",") != "dst access_key_id,dst secret_access_key" {
		t.Fatalf("changed %v, %v", changed, err)
	}
	if k := p.Destinations["dst"].Keys(); k.AccessKeyID.Reveal() != "AKIANEW" || k.SecretAccessKey.Reveal() != "new-secret" {
		t.Errorf("keys after reload: %q", k.AccessKeyID.Reveal())
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/testenv"
)

func TestCLI_ConfigExportToS3ThenImportRebuildsTheTree(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	m := testenv.SharedMariaDB(t)
	p := testenv.NewProject(t, m, m.NewDatabase(t), s3)
	secrets := []string{testenv.ProjectPassword, s3.SecretKey}

	out, errOut, code := acode(t, p, "config", "export", "--to", "s3://"+p.Bucket+"/config-backup", "--json")
	if code != 0 {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	var res struct {
		Location string `json:"location"`
		Files    int    `json:"files"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	key, ok := strings.CutPrefix(res.Location, "s3://"+p.Bucket+"/")
	if !ok || !strings.HasPrefix(key, "config-backup/acode-connections-") || !strings.HasSuffix(key, ".json") || res.Files < 9 {
		t.Fatalf("export went to %q with %d files", res.Location, res.Files)
	}
	// What landed in the bucket, read from the server's disk, holds no secret.
	stored, err := os.ReadFile(s3.ObjectPath(p.Bucket, key))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		for where, text := range map[string]string{"stored document": string(stored), "stdout": out, "stderr": errOut} {
			if strings.Contains(text, s) {
				t.Errorf("%s holds a secret", where)
			}
		}
	}
	if !bytes.Contains(stored, []byte(`password: ${ACODE_PASS}`)) {
		t.Error("the stored document lacks the password's reference")
	}

	// Restore through the project's destination, then without any project:
	// --endpoint and the default credential chain.
	restored := filepath.Join(t.TempDir(), "restored")
	if _, errOut, code := acode(t, p, "config", "import", res.Location, "--into", restored); code != 0 {
		t.Fatalf("import: exit %d\n%s", code, errOut)
	}
	sameTree(t, p.Dir, restored)
	if _, _, code := acode(t, p, "config", "import", res.Location, "--into", restored); code != exitConfig {
		t.Errorf("a second import over the tree: exit %d, want %d", code, exitConfig)
	}
	bare := filepath.Join(t.TempDir(), "bare")
	cmd := exec.Command(acodeBin, "--config", t.TempDir(), "config", "import", res.Location, "--into", bare, "--endpoint", s3.Endpoint)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+s3.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3.SecretKey, "AWS_REGION="+s3.Region)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import with --endpoint: %v\n%s", err, b)
	}
	sameTree(t, p.Dir, bare)

	// The restored project loads and answers with the same connection ids.
	restoredProject := *p
	restoredProject.Dir = restored
	want, _, _ := acode(t, p, "config", "export")
	got, errOut, code := acode(t, &restoredProject, "config", "export")
	if code != 0 {
		t.Fatalf("export of the restored tree: exit %d\n%s", code, errOut)
	}
	if connectionsOf(t, got) != connectionsOf(t, want) {
		t.Errorf("connections after the round trip:\n%s\nwant:\n%s", connectionsOf(t, got), connectionsOf(t, want))
	}
}

// sameTree checks that every file of the export set under orig is in
// restored with the same bytes.
func sameTree(t *testing.T, orig, restored string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(orig, "*", "*", "configuration.yaml"))
	files = append(files, filepath.Join(orig, "acode.yaml"))
	for _, f := range files {
		rel, _ := filepath.Rel(orig, f)
		a, _ := os.ReadFile(f)
		b, err := os.ReadFile(filepath.Join(restored, rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs after import (%v)", rel, err)
		}
	}
}

func connectionsOf(t *testing.T, doc string) string {
	t.Helper()
	var d struct {
		Connections json.RawMessage `json:"connections"`
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return string(d.Connections)
}

package configexport

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
)

// Secret values the tests' environments and files hold; none may appear in
// a document.
const (
	envPassword  = "env-Pa55word-acode"
	envAccessKey = "AKIAENVACCESSKEY0001"
	envSecretKey = "env/Secret+Key/abcdef0123456789"
	filePassword = "literal-Backup-pass!"
	fileSecret   = "literal'Secret#key"
)

var now = time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)

func env(extra map[string]string) func(string) (string, bool) {
	m := map[string]string{
		"ACODE_PASS":                      envPassword,
		"ACODE_BACKUP_HOST":               "127.0.0.1",
		"ACODE_BACKUP_USER":               "userfarmarcasac02",
		"ACODE_BACKUP_PASS":               envPassword,
		"FARMARCAS_AWS_ACCESS_KEY_ID":     envAccessKey,
		"FARMARCAS_AWS_SECRET_ACCESS_KEY": envSecretKey,
	}
	for k, v := range extra {
		m[k] = v
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// exampleProject copies examples/acode-project and writes two secrets into
// its backup side literally (one plain, one single-quoted), plus an Octavia
// state file giving the primary connection its Airbyte id.
func exampleProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "examples", "acode-project")
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	edit(t, filepath.Join(dir, "sources/source_mysql_acode_backup/configuration.yaml"), "${ACODE_BACKUP_PASS}", filePassword)
	edit(t, filepath.Join(dir, "destinations/destination_s3_acode_backup/configuration.yaml"),
		"secret_access_key: ${FARMARCAS_AWS_SECRET_ACCESS_KEY}", "secret_access_key: '"+strings.ReplaceAll(fileSecret, "'", "''")+"'")
	state := "resource_name: connection_mysql_s3_acode\nresource_id: 6d3b1f4e-0a2b-4c5d-9e8f-112233445566\nconfiguration_hash: abc\n"
	if err := os.WriteFile(filepath.Join(dir, "connections/connection_mysql_s3_acode/state_production.yaml"), []byte(state), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s: %q not found", path, old)
	}
	if err := os.WriteFile(path, bytes.ReplaceAll(data, []byte(old), []byte(new)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exportJSON(t *testing.T, dir string) (*Document, string) {
	t.Helper()
	p, err := config.Load(dir, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p.Sources["source_mysql_acode_backup"].Password.Reveal() != filePassword {
		t.Fatal("the literal password did not load: the fixture is wrong")
	}
	doc, err := Export(p, now)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, doc); err != nil {
		t.Fatal(err)
	}
	return doc, buf.String()
}

func TestExport_NoSecretValueInTheDocument(t *testing.T) {
	doc, text := exportJSON(t, exampleProject(t))
	for _, secret := range []string{envPassword, envAccessKey, envSecretKey, filePassword, "literal", "Secret#key"} {
		if strings.Contains(text, secret) {
			t.Errorf("the document holds the secret %q", secret)
		}
	}
	for _, ref := range []string{"password: ${ACODE_PASS}", "access_key_id: ${FARMARCAS_AWS_ACCESS_KEY_ID}",
		"password: ${SOURCE_MYSQL_ACODE_BACKUP_PASSWORD}", "secret_access_key: ${DESTINATION_S3_ACODE_BACKUP_SECRET_ACCESS_KEY}"} {
		if !containsFile(doc, ref) {
			t.Errorf("no file holds %q", ref)
		}
	}
	want := map[string]string{
		"sources/source_mysql_acode_backup/configuration.yaml":        "SOURCE_MYSQL_ACODE_BACKUP_PASSWORD",
		"destinations/destination_s3_acode_backup/configuration.yaml": "DESTINATION_S3_ACODE_BACKUP_SECRET_ACCESS_KEY",
	}
	if len(doc.Redacted) != len(want) {
		t.Fatalf("redacted %+v, want %v", doc.Redacted, want)
	}
	for _, r := range doc.Redacted {
		if want[r.File] != r.Variable || r.Line == 0 {
			t.Errorf("redaction %+v, want variable %s with a line", r, want[r.File])
		}
	}
	for _, v := range []string{"ACODE_PASS", "FARMARCAS_AWS_ACCESS_KEY_ID", "SOURCE_MYSQL_ACODE_BACKUP_PASSWORD"} {
		if !contains(doc.Variables, v) {
			t.Errorf("variables %v lack %s", doc.Variables, v)
		}
	}
	if contains(doc.Variables, "STREAM_NAME") || contains(doc.Variables, "YEAR") {
		t.Errorf("variables %v list destination-s3's path variables", doc.Variables)
	}
}

func containsFile(doc *Document, s string) bool {
	for _, f := range doc.Files {
		if strings.Contains(f.Content, s) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestExport_ListsTheTreeAndTheConnectionIDs(t *testing.T) {
	dir := exampleProject(t)
	doc, _ := exportJSON(t, dir)
	var paths []string
	for _, f := range doc.Files {
		paths = append(paths, f.Path)
	}
	wantPaths := []string{"acode.yaml",
		"connections/connection_mysql_local_acode/configuration.yaml",
		"connections/connection_mysql_s3_acode/configuration.yaml",
		"connections/connection_mysql_s3_acode/state_production.yaml",
		"connections/connection_mysql_s3_acode_backup/configuration.yaml",
		"destinations/destination_local_acode/configuration.yaml",
		"destinations/destination_s3_acode/configuration.yaml",
		"destinations/destination_s3_acode_backup/configuration.yaml",
		"sources/source_mysql_acode/configuration.yaml",
		"sources/source_mysql_acode_backup/configuration.yaml"}
	if strings.Join(paths, "\n") != strings.Join(wantPaths, "\n") {
		t.Fatalf("files:\n%s\nwant:\n%s", strings.Join(paths, "\n"), strings.Join(wantPaths, "\n"))
	}
	// An untouched file is kept byte for byte, comments included.
	orig, _ := os.ReadFile(filepath.Join(dir, "sources/source_mysql_acode/configuration.yaml"))
	for _, f := range doc.Files {
		if f.Path == "sources/source_mysql_acode/configuration.yaml" && f.Content != string(orig) {
			t.Errorf("the primary source changed on export:\n%s", f.Content)
		}
	}
	ids := map[string]string{}
	for _, c := range doc.Connections {
		ids[c.Name] = c.ID
	}
	if ids["connection_mysql_s3_acode"] != "6d3b1f4e-0a2b-4c5d-9e8f-112233445566" {
		t.Errorf("connection ids %v: want the state file's resource_id for the primary", ids)
	}
	if len(ids) != 3 || ids["connection_mysql_s3_acode_backup"] == "" {
		t.Errorf("connection ids %v: want all three", ids)
	}
}

func TestImport_RoundTripLoadsTheSameProject(t *testing.T) {
	dir := exampleProject(t)
	doc, text := exportJSON(t, dir)
	back, err := Decode(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	into := filepath.Join(t.TempDir(), "restored")
	written, err := Import(back, into, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != len(doc.Files) {
		t.Fatalf("wrote %v", written)
	}
	// The redacted secrets are now variables: set them as the restorer would.
	lookup := env(map[string]string{
		"SOURCE_MYSQL_ACODE_BACKUP_PASSWORD":            filePassword,
		"DESTINATION_S3_ACODE_BACKUP_SECRET_ACCESS_KEY": fileSecret,
	})
	orig, err := config.Load(dir, lookup)
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(into, lookup)
	if err != nil {
		t.Fatalf("the imported tree does not load: %v", err)
	}
	for name, c := range orig.Connections {
		g := got.Connections[name]
		if g == nil || g.ID != c.ID || g.Source.ResourceName != c.Source.ResourceName || len(g.Streams) != len(c.Streams) {
			t.Errorf("connection %s differs after the round trip", name)
		}
	}
	for name, s := range orig.Sources {
		g := got.Sources[name]
		if g == nil || g.Host != s.Host || g.Password.Reveal() != s.Password.Reveal() {
			t.Errorf("source %s differs after the round trip", name)
		}
	}
	if got.Destinations["destination_s3_acode_backup"].SecretAccessKey.Reveal() != fileSecret {
		t.Error("the backup destination's secret did not come back through its variable")
	}
	relOrig, _ := filepath.Rel(dir, orig.Settings.StateDB)
	relGot, _ := filepath.Rel(into, got.Settings.StateDB)
	if relGot != relOrig || relGot == "" {
		t.Errorf("acode.yaml differs: state_db %q vs %q", got.Settings.StateDB, orig.Settings.StateDB)
	}
	// A second import without overwrite refuses and writes nothing.
	if _, err := Import(back, into, false); !errors.Is(err, ErrExists) {
		t.Errorf("second import: %v, want ErrExists", err)
	}
}

func TestDecode_DamagedDocumentNamesTheEntryAndWritesNothing(t *testing.T) {
	doc, _ := exportJSON(t, exampleProject(t))
	doc.Files[2].Content += "\nextra: line\n"
	doc.Files[3].Path = "../outside/configuration.yaml"
	var buf bytes.Buffer
	if err := Encode(&buf, doc); err != nil {
		t.Fatal(err)
	}
	_, err := Decode(&buf)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("decode: %v, want *Error", err)
	}
	msg := err.Error()
	for _, want := range []string{"files[2]", doc.Files[2].Path, "sha256", "files[3]", "../outside"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	if _, err := Decode(strings.NewReader(`{"format":"other"}`)); err == nil || !strings.Contains(err.Error(), "other") {
		t.Errorf("a foreign document: %v", err)
	}
	raw, _ := json.Marshal(map[string]any{"format": Format, "files": []any{}})
	if _, err := Decode(bytes.NewReader(raw)); err == nil {
		t.Error("an empty document was accepted")
	}
}

func TestObjectName_IsTheSeedsMonthlyName(t *testing.T) {
	if got := ObjectName(now); got != "acode-connections-202611.json" {
		t.Errorf("ObjectName = %q", got)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// `acode validate --restore` on a pair's primary day whose committed file
// was corrupted on the server restores the day from the backup; the day
// then validates, files re-read.
func TestCLI_ValidateRestoreRepairsACorruptedPrimaryDay(t *testing.T) {
	t.Parallel()
	p, _, _ := pairProject(t, 2000, fmt.Sprintf(pairSettings, ""))
	const conn = "connection_mysql_s3_acode"
	if out, stderr, code := acode(t, p, "health"); code == 2 {
		t.Fatalf("health: exit %d\n%s\n%s", code, out, stderr)
	}
	out, stderr, code := acode(t, p, "sync", "--json", conn)
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s\n%s", code, out, stderr)
	}
	var res struct {
		Streams []struct {
			Name  string   `json:"name"`
			Files []string `json:"files"`
		} `json:"streams"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Streams) == 0 || len(res.Streams[0].Files) == 0 {
		t.Fatalf("sync --json (%v):\n%s", err, out)
	}
	path := p.S3.ObjectPath(p.Bucket, res.Streams[0].Files[0])
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, code := acode(t, p, "validate", "--connection", conn); code != 1 {
		t.Fatalf("validate of the corrupted day: exit %d, want 1", code)
	}
	_, stderr, code = acode(t, p, "validate", "--restore", "--connection", conn)
	if code != 0 || !strings.Contains(stderr, res.Streams[0].Name) || !strings.Contains(stderr, "restored from backup job") {
		t.Fatalf("validate --restore: exit %d\n%s", code, stderr)
	}
	if out, stderr, code := acode(t, p, "validate", "--deep", "--connection", conn); code != 0 {
		t.Errorf("the restored day does not validate: exit %d\n%s\n%s", code, out, stderr)
	}
}

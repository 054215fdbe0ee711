package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/testenv"
)

// TestCLI_StateCopyToPostgresThenSyncOnIt moves a used SQLite store to
// PostgreSQL with `acode state copy`, points state_db at the URL (password
// from ${VAR}) and syncs on it: the old job is still there under its id, the
// new job follows it, and the password shows nowhere.
func TestCLI_StateCopyToPostgresThenSyncOnIt(t *testing.T) {
	t.Parallel()
	p := seededProject(t, 2000, nil)
	pg := testenv.SharedPostgres(t)
	const pgPass = "pg-Secret-9731"
	p.Env["ACODE_PG_PASSWORD"] = pgPass
	url := strings.Replace(pg.NewDatabase(t), "postgres@", "postgres:${ACODE_PG_PASSWORD}@", 1)

	out, stderr, code := acode(t, p, "sync", "--json", "connection_mysql_local_acode")
	if code != 0 {
		t.Fatalf("sync on SQLite: exit %d\n%s\n%s", code, out, stderr)
	}
	var first syncJSON
	if err := json.Unmarshal([]byte(out), &first); err != nil || first.Status != "succeeded" {
		t.Fatalf("sync on SQLite: %v %+v", err, first)
	}

	copyOut, stderr, code := acode(t, p, "state", "copy", "--to", url)
	if code != 0 {
		t.Fatalf("state copy: exit %d\n%s\n%s", code, copyOut, stderr)
	}
	if !strings.Contains(copyOut, "stream_results") || !strings.Contains(copyOut, "copied ") {
		t.Errorf("state copy output lacks the per-table counts:\n%s", copyOut)
	}
	_, _, code = acode(t, p, "state", "copy", "--to", url)
	if code == 0 {
		t.Error("a second copy into the same database succeeded; it must refuse a non-empty store")
	}

	if err := os.WriteFile(filepath.Join(p.Dir, "acode.yaml"), []byte("state_db: "+url+"\nsync:\n  chunk_rows: 2000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	migrateOut, stderr, code := acode(t, p, "state", "migrate")
	if code != 0 || !strings.Contains(migrateOut, "(postgres): schema version") {
		t.Fatalf("state migrate: exit %d\n%s\n%s", code, migrateOut, stderr)
	}
	out, stderr, code = acode(t, p, "sync", "--json", "connection_mysql_local_acode")
	if code != 0 {
		t.Fatalf("sync on PostgreSQL: exit %d\n%s\n%s", code, out, stderr)
	}
	var second syncJSON
	if err := json.Unmarshal([]byte(out), &second); err != nil || second.Status != "succeeded" || second.JobID <= first.JobID {
		t.Fatalf("sync on PostgreSQL: %v %+v; want succeeded with an id after %d", err, second, first.JobID)
	}
	jobsOut, _, code := acode(t, p, "jobs", "--json")
	var jobs []struct {
		ID     int64
		Status string
	}
	if err := json.Unmarshal([]byte(jobsOut), &jobs); code != 0 || err != nil {
		t.Fatalf("jobs --json: exit %d %v\n%s", code, err, jobsOut)
	}
	seen := map[int64]string{}
	for _, j := range jobs {
		seen[j.ID] = j.Status
	}
	if seen[first.JobID] != "succeeded" || seen[second.JobID] != "succeeded" {
		t.Errorf("jobs on PostgreSQL = %v; want the copied job %d and the new job %d, both succeeded", seen, first.JobID, second.JobID)
	}
	all := copyOut + migrateOut + out + jobsOut + stderr
	if strings.Contains(all, pgPass) {
		t.Error("the PostgreSQL password appears in acode's output")
	}
	dump := pgDump(t, pg, url)
	for _, secret := range []string{pgPass, testenv.ProjectPassword} {
		if strings.Contains(dump, secret) {
			t.Errorf("the state database holds a secret (%d bytes dumped)", len(dump))
		}
	}
}

// pgDump dumps the database's data with Debian's pg_dump.
func pgDump(t *testing.T, pg *testenv.Postgres, url string) string {
	t.Helper()
	db := url[strings.LastIndex(url, "/")+1:]
	db, _, _ = strings.Cut(db, "?")
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	if len(bins) == 0 {
		t.Fatal("pg_dump not found in /usr/lib/postgresql/*/bin: apt-get install postgresql")
	}
	out, err := exec.Command(bins[len(bins)-1], "--data-only", "-h", pg.Host, "-p", strconv.Itoa(pg.Port), "-U", "postgres", db).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "COPY public.jobs") {
		t.Fatalf("pg_dump printed no jobs table:\n%s", out)
	}
	return string(out)
}

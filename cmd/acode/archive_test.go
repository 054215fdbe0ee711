package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

type archiveRunJSON struct {
	Archives []struct {
		Stream, Month, Did, From, Manifest string
		JobID                              int64 `json:"job_id"`
		Rows                               int64
		Files                              int
	} `json:"archives"`
}

func archiveRun(t *testing.T, p *testenv.Project, args ...string) (archiveRunJSON, int, string) {
	t.Helper()
	out, errOut, code := acode(t, p, append([]string{"archive", "--connection", "connection_mysql_s3_acode", "--json"}, args...)...)
	var r archiveRunJSON
	if out != "" {
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s\n%s", err, out, errOut)
		}
	}
	return r, code, errOut
}

// duckRows counts the rows of the Parquet files under dir with DuckDB.
func duckRows(t *testing.T, d *testenv.Duck, dir string) int64 {
	t.Helper()
	rows := d.Query(t, "SELECT COUNT(*) AS n FROM read_parquet("+testenv.SQLString(filepath.Join(dir, "*.parquet"))+")")
	n, _ := rows[0]["n"].(float64)
	if n == 0 {
		fmt.Sscan(fmt.Sprint(rows[0]["n"]), &n)
	}
	return int64(n)
}

func TestCLI_ArchiveCopiesTheMonthVerifiedOnceAndRestoresIt(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 1500, s3)
	if out, errOut, code := acode(t, p, "sync", "connection_mysql_s3_acode"); code != 0 {
		t.Fatalf("sync: exit %d\n%s\n%s", code, out, errOut)
	}
	month := time.Now().UTC().Format("2006-01")
	first, code, errOut := archiveRun(t, p, "--month", month)
	if code != 0 || len(first.Archives) != 3 {
		t.Fatalf("archive: exit %d %+v\n%s", code, first, errOut)
	}
	duck := testenv.DuckDB(t)
	var diario struct{ rows int64 }
	for _, a := range first.Archives {
		if a.Did != "archived" || a.JobID == 0 || a.Rows == 0 || a.Files == 0 ||
			a.Manifest != "acode_historical/monthly_snapshots/connection_mysql_s3_acode/"+a.Stream+"/"+month+"/_acode_manifest.json" {
			t.Errorf("archive %+v", a)
		}
		dir := filepath.Dir(s3.ObjectPath(p.Bucket, a.Manifest))
		if got := duckRows(t, duck, dir); got != a.Rows {
			t.Errorf("%s: DuckDB reads %d rows in the archive, the snapshot had %d", a.Stream, got, a.Rows)
		}
		if _, err := os.Stat(filepath.Join(dir, "_SUCCESS")); err != nil {
			t.Errorf("%s: no _SUCCESS: %v", a.Stream, err)
		}
		if a.Stream == "farmarcas_si_analitico_diario" {
			diario.rows = a.Rows
		}
	}
	staging := filepath.Join(s3.Dir, p.Bucket, "acode_historical", "monthly_snapshots", ".staging")
	if n := countFiles(staging); n != 0 {
		t.Errorf("%d files left in the archive's staging area", n)
	}

	// A second run copies nothing.
	stamp := map[string]time.Time{}
	root := filepath.Join(s3.Dir, p.Bucket, "acode_historical")
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			stamp[path] = info.ModTime()
		}
		return nil
	})
	second, code, _ := archiveRun(t, p, "--month", month)
	for _, a := range second.Archives {
		if code != 0 || a.Did != "already archived" {
			t.Errorf("second run: exit %d, %+v", code, a)
		}
	}
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && !stamp[path].Equal(info.ModTime()) {
			t.Errorf("%s was written again", path)
		}
		return nil
	})

	out, _, code := acode(t, p, "archive", "--list", "--connection", "connection_mysql_s3_acode")
	if code != 0 || strings.Count(strings.TrimSpace(out), "\n") != 3 || !strings.Contains(out, "  "+month+"  ") || !strings.Contains(out, "farmarcas_si_analitico_diario_produtos") {
		t.Errorf("archive --list (exit %d):\n%s", code, out)
	}

	// Restore the month into another day's bronze partition.
	day := "2020-01-15"
	out, errOut, code = acode(t, p, "archive", "restore", "--connection", "connection_mysql_s3_acode",
		"--month", month, "--stream", "farmarcas_si_analitico_diario", "--to", day)
	if code != 0 || !strings.Contains(out, "cog_dt_ingestion="+day) {
		t.Fatalf("restore: exit %d\n%s\n%s", code, out, errOut)
	}
	restored := filepath.Join(s3.Dir, p.Bucket, "origin=airbyte", "database=bronze_acode", "farmarcas_si_analitico_diario", "cog_dt_ingestion="+day)
	if got := duckRows(t, duck, restored); got != diario.rows {
		t.Errorf("DuckDB reads %d rows in the restored day, want %d", got, diario.rows)
	}
	if _, _, code := acode(t, p, "archive", "restore", "--connection", "connection_mysql_s3_acode",
		"--month", month, "--stream", "farmarcas_si_analitico_diario", "--to", day); code != exitConfig {
		t.Errorf("a second restore over the day: exit %d, want %d", code, exitConfig)
	}
}

func TestCLI_ArchiveRefusesACopyThatDiffersFromItsChecksum(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 600, s3)
	out, errOut, code := acode(t, p, "sync", "--json", "connection_mysql_s3_acode")
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, errOut)
	}
	var r syncJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	// Damage one stored part, keeping its size: only the checksum tells.
	part := s3.ObjectPath(p.Bucket, r.Streams[0].Files[0])
	data, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(part, data, 0o644); err != nil {
		t.Fatal(err)
	}
	month := time.Now().UTC().Format("2006-01")
	_, code, errOut = archiveRun(t, p, "--month", month)
	if code != exitDestination || !strings.Contains(errOut, "differs from its manifest checksum") {
		t.Fatalf("exit %d, want %d naming the checksum\n%s", code, exitDestination, errOut)
	}
	m := filepath.Join(s3.Dir, p.Bucket, "acode_historical", "monthly_snapshots", "connection_mysql_s3_acode", r.Streams[0].Name, month, "_acode_manifest.json")
	if _, err := os.Stat(m); err == nil {
		t.Error("the damaged stream's archive was committed")
	}
}

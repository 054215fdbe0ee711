package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

// appendYAML adds text at the end of the project's acode.yaml.
func appendYAML(t *testing.T, p *testenv.Project, text string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(p.Dir, "acode.yaml"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// A separate archive bucket on the same versitygw: the month is copied
// server-side into it under archive.prefix, verified and committed there,
// nothing archival lands in the bronze bucket, --list reads it and a
// restore brings a month back into the bronze bucket.
func TestCLI_ArchiveIntoASeparateBucketListsAndRestoresFromThere(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 900, s3)
	archBucket := s3.NewBucket(t)
	appendYAML(t, p, "archive:\n  bucket: "+archBucket+"\n  prefix: hist/monthly/\n")
	if out, errOut, code := acode(t, p, "sync", "connection_mysql_s3_acode"); code != 0 {
		t.Fatalf("sync: exit %d\n%s\n%s", code, out, errOut)
	}
	month := time.Now().UTC().Format("2006-01")
	res, code, errOut := archiveRun(t, p, "--month", month)
	if code != 0 || len(res.Archives) != 3 {
		t.Fatalf("archive: exit %d %+v\n%s", code, res, errOut)
	}
	duck := testenv.DuckDB(t)
	var rows int64
	for _, a := range res.Archives {
		if a.Did != "archived" || a.Manifest != "hist/monthly/connection_mysql_s3_acode/"+a.Stream+"/"+month+"/_acode_manifest.json" {
			t.Errorf("archive %+v", a)
		}
		dir := filepath.Dir(s3.ObjectPath(archBucket, a.Manifest))
		if got := duckRows(t, duck, dir); got != a.Rows {
			t.Errorf("%s: DuckDB reads %d rows in the archive bucket, the snapshot had %d", a.Stream, got, a.Rows)
		}
		if _, err := os.Stat(filepath.Join(dir, "_SUCCESS")); err != nil {
			t.Errorf("%s: no _SUCCESS in the archive bucket: %v", a.Stream, err)
		}
		if a.Stream == "farmarcas_si_analitico_diario" {
			rows = a.Rows
		}
	}
	if n := countFiles(filepath.Join(s3.Dir, archBucket, "hist", "monthly", ".staging")); n != 0 {
		t.Errorf("%d files left in the archive bucket's staging area", n)
	}
	for _, dir := range []string{"hist", "acode_historical"} {
		if _, err := os.Stat(filepath.Join(s3.Dir, p.Bucket, dir)); err == nil {
			t.Errorf("the bronze bucket has %s/: the archive went there", dir)
		}
	}
	again, code, _ := archiveRun(t, p, "--month", month)
	if code != 0 || len(again.Archives) != 3 || again.Archives[0].Did != "already archived" {
		t.Errorf("second run: exit %d %+v", code, again)
	}
	// The year's last monthly archive, kept under the yearly prefix of
	// the same bucket (the seed's acode_historical/yearly_archives/).
	year := time.Now().UTC().Format("2006")
	yr, code, errOut := archiveRun(t, p, "--year", year)
	if code != 0 || len(yr.Archives) != 3 {
		t.Fatalf("archive --year: exit %d %+v\n%s", code, yr, errOut)
	}
	for _, a := range yr.Archives {
		if a.Did != "archived" || a.From != month || a.Manifest != "acode_historical/yearly_archives/connection_mysql_s3_acode/"+a.Stream+"/"+year+"/_acode_manifest.json" {
			t.Errorf("yearly archive %+v", a)
		}
		if got := duckRows(t, duck, filepath.Dir(s3.ObjectPath(archBucket, a.Manifest))); got != a.Rows {
			t.Errorf("%s: DuckDB reads %d rows in the yearly archive, want %d", a.Stream, got, a.Rows)
		}
	}
	out, _, code := acode(t, p, "archive", "--list", "--connection", "connection_mysql_s3_acode")
	if code != 0 || strings.Count(strings.TrimSpace(out), "\n") != 6 || !strings.Contains(out, "farmarcas_si_analitico_diario_produtos") ||
		!strings.Contains(out, "  "+year+"  ") {
		t.Errorf("archive --list (exit %d):\n%s", code, out)
	}
	day := "2020-02-03"
	out, errOut, code = acode(t, p, "archive", "restore", "--connection", "connection_mysql_s3_acode",
		"--month", month, "--stream", "farmarcas_si_analitico_diario", "--to", day)
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s\n%s", code, out, errOut)
	}
	restored := filepath.Join(s3.Dir, p.Bucket, "origin=airbyte", "database=bronze_acode", "farmarcas_si_analitico_diario", "cog_dt_ingestion="+day)
	if got := duckRows(t, duck, restored); got != rows {
		t.Errorf("DuckDB reads %d rows in the restored day, want %d", got, rows)
	}
	if n := countFiles(filepath.Join(s3.Dir, p.Bucket, "origin=airbyte", "database=bronze_acode", "_acode_staging", "_archive_restore")); n != 0 {
		t.Errorf("%d files left in the restore's staging area", n)
	}
}

func TestCLI_ArchiveSettingsErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 50, s3)
	base, err := os.ReadFile(filepath.Join(p.Dir, "acode.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ yaml, want string }{
		{"archive:\n  bucket: Not_A_Bucket\n", `archive.bucket: "Not_A_Bucket" is not an S3 bucket name`},
		{"archive:\n  prefix: /abs\n", `archive.prefix: "/abs" must be relative`},
		{"archive:\n  prefix: origin=airbyte/database=bronze_acode/hist\n", "archive.prefix: \"origin=airbyte/database=bronze_acode/hist\" is inside connection connection_mysql_s3_acode's s3_bucket_path"},
		{"archive:\n  bucket: no-such-archive-bucket\n", "archive.bucket: no-such-archive-bucket is not reachable with destination"},
	} {
		if err := os.WriteFile(filepath.Join(p.Dir, "acode.yaml"), append(append([]byte{}, base...), c.yaml...), 0o644); err != nil {
			t.Fatal(err)
		}
		_, code, errOut := archiveRun(t, p, "--month", "2026-01")
		if code == 0 || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "acode.yaml:") {
			t.Errorf("%q: exit %d, want an error with %q\n%s", c.yaml, code, c.want, errOut)
		}
	}
}

package config

import (
	"strings"
	"testing"
)

func TestLoad_StateDBPostgresURLIsExpandedAndKeptAsIs(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{SettingsFile, "", "state_db: postgres://acode:${PG_PASS}@db.internal:5432/acode?sslmode=require\n"})
	p, err := Load(dir, env("DB_HOST", "h", "DB_PASS", "pw", "PG_PASS", "s3cr3t-pw"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://acode:s3cr3t-pw@db.internal:5432/acode?sslmode=require"; p.Settings.StateDB != want {
		t.Errorf("StateDB = %q, want %q (expanded, not resolved as a file)", p.Settings.StateDB, want)
	}
}

func TestLoad_BadStateDBURLNamesTheKeyNotThePassword(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{SettingsFile, "", "sync:\n  chunk_rows: 1000\nstate_db: postgresql://acode:${PG_PASS}@db.internal:5432\n"})
	_, err := Load(dir, env("DB_HOST", "h", "DB_PASS", "pw", "PG_PASS", "hunter2"))
	if err == nil {
		t.Fatal("a URL without a database was accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, "acode.yaml:3: state_db: postgres:// URL names no database") || strings.Contains(msg, "hunter2") {
		t.Errorf("error %q: want file, line, key and what is missing, never the password", msg)
	}
}

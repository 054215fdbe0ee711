package testenv

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Duck is DuckDB run through its Node package: the independent Parquet reader
// the tests check our files with, so a bug shared by our writer and the library
// that wrote the file cannot hide. Each call starts one node process with a
// fresh in-memory database.
type Duck struct {
	node   string
	script string
	dir    string
}

// DuckResult is one statement's answer: column names and the types DuckDB
// reports for them (e.g. "DECIMAL(15,2)", "TIMESTAMP WITH TIME ZONE"), and the
// rows. BIGINT, UBIGINT, HUGEINT, DECIMAL, DATE, TIMESTAMP and TIME values are
// exact strings; other numbers are json.Number.
type DuckResult struct {
	Columns []string
	Types   []string
	Rows    []map[string]any
}

// DuckDB returns the DuckDB reader, failing the test with the install command
// when node or @duckdb/node-api is missing.
func DuckDB(t testing.TB) *Duck {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found: run scripts/test-deps.sh (installs nodejs and @duckdb/node-api)")
	}
	dir := os.Getenv("ACODE_DUCKDB_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatalf("duckdb: home dir: %v", err)
		}
		dir = filepath.Join(home, ".cache", "acode-duckdb")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api", "package.json")); err != nil {
		t.Fatalf("@duckdb/node-api not found in %s: run scripts/test-deps.sh", dir)
	}
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatalf("duckdb: cannot locate query.mjs")
	}
	return &Duck{node: node, script: filepath.Join(filepath.Dir(self), "duckdb", "query.mjs"), dir: dir}
}

// Query runs one SQL statement and returns its rows.
func (d *Duck) Query(t testing.TB, sql string) []map[string]any {
	t.Helper()
	return d.Run(t, sql)[0].Rows
}

// Run runs the statements in order in one database (one node start, which
// is what costs time) and returns one result per statement.
func (d *Duck) Run(t testing.TB, sqls ...string) []DuckResult {
	t.Helper()
	in, err := json.Marshal(sqls)
	if err != nil {
		t.Fatalf("duckdb: encode statements: %v", err)
	}
	cmd := exec.Command(d.node, d.script)
	cmd.Env = append(os.Environ(), "ACODE_DUCKDB_DIR="+d.dir)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("duckdb: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var raw []struct {
		Columns []string         `json:"columns"`
		Types   []string         `json:"types"`
		Rows    []map[string]any `json:"rows"`
	}
	dec := json.NewDecoder(&stdout)
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("duckdb: decode output: %v", err)
	}
	out := make([]DuckResult, len(raw))
	for i, r := range raw {
		out[i] = DuckResult{Columns: r.Columns, Types: r.Types, Rows: r.Rows}
	}
	return out
}

// SQLString quotes s as a SQL string literal, e.g. for a file path.
func SQLString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

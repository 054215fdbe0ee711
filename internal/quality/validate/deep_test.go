package validate_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/quality/validate"
	"github.com/acode-dev/acode/internal/snapshot"
)

// TestValidateDeep_CatchesAManifestThatLiesAboutItsFiles replaces diario's
// part by a valid Parquet file with other values and edits the manifest's
// size and SHA-256 to match: only --deep, which re-reads the rows, sees it.
func TestValidateDeep_CatchesAManifestThatLiesAboutItsFiles(t *testing.T) {
	t.Parallel()
	tp, p, res := synced(t, 3000)
	day := res.StartedAt
	conn, err := p.Connection(local)
	if err != nil {
		t.Fatal(err)
	}
	run := func(deep bool) validate.Result {
		t.Helper()
		r, err := validate.Day(t.Context(), p, conn, day, nil, validate.Options{Deep: deep})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	shallow, deep := run(false), run(true)
	if !deep.Passed || deep.Score != shallow.Score {
		t.Fatalf("clean day: deep passed=%v score %v, shallow score %v", deep.Passed, deep.Score, shallow.Score)
	}
	for i, c := range deep.Partitions {
		if !c.Deep || len(c.StatsDiffs) > 0 || c.Report.Score != shallow.Partitions[i].Report.Score {
			t.Errorf("%s: deep diffs %q, score %v vs %v", c.Stream, c.StatsDiffs, c.Report.Score, shallow.Partitions[i].Report.Score)
		}
	}

	diario := res.Streams[0]
	manifestPath := filepath.Join(tp.LocalRoot(), diario.Partition, "_acode_manifest.json")
	var m snapshot.Manifest
	readJSON(t, manifestPath, &m)
	part := filepath.Join(tp.LocalRoot(), m.Files[0].Key)
	forged := forge(t, part, &m, func(row [][]byte, col func(string) int) {
		row[col("ACODE_Val_Total")] = []byte("1.00") // every sale now worth 1.00
		row[col("EAN")] = nil
	})
	if err := os.WriteFile(part, forged, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(forged)
	m.Files[0].Bytes, m.Files[0].SHA256 = int64(len(forged)), hex.EncodeToString(sum[:])
	m.Bytes = 0
	for _, f := range m.Files {
		m.Bytes += f.Bytes
	}
	writeJSON(t, manifestPath, m)

	if again := run(false); !again.Passed || again.Score != shallow.Score {
		t.Fatalf("without --deep the forged partition must look clean (sizes and checksums match): %+v", again.Partitions[0].Problems)
	}
	caught := run(true)
	if caught.Passed {
		t.Fatal("--deep passed a partition whose rows differ from its manifest's statistics")
	}
	c := caught.Partitions[0]
	all := strings.Join(c.StatsDiffs, "\n")
	for _, want := range []string{
		demo.TableDiario + " column ACODE_Val_Total sum: manifest says " + colStat(m, "ACODE_Val_Total").Sum + ", files hold ",
		demo.TableDiario + " column EAN nulls: manifest says",
		demo.TableDiario + " column ACODE_Val_Total min: manifest says " + colStat(m, "ACODE_Val_Total").Min + ", files hold 1.00",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("differences lack %q:\n%s", want, all)
		}
	}
	if c.Valid() || c.Report.Results[0].Rule != "integrity" || c.Report.Results[0].Passed {
		t.Errorf("the integrity rule must fail first: %+v", c.Report.Results[0])
	}
	// The rules ran on the recomputed statistics: EAN is now all NULL,
	// beyond the seed's 10% null tolerance.
	failing := map[string]bool{}
	for _, r := range c.Report.Results {
		if r.Failing() {
			failing[r.Rule] = true
		}
	}
	if !failing["null_tolerance.EAN"] {
		t.Errorf("rules on the recomputed statistics: failing %v, want null_tolerance.EAN", failing)
	}
	for _, other := range caught.Partitions[1:] {
		if len(other.StatsDiffs) > 0 {
			t.Errorf("%s untouched but differs: %q", other.Stream, other.StatsDiffs)
		}
	}
}

// forge rewrites a part with the sync's own encoder after edit changed
// every row: a valid file with the same schema and row count.
func forge(t *testing.T, path string, m *snapshot.Manifest, edit func(row [][]byte, col func(string) int)) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	table := m.Table()
	dec, err := parquet.NewDecoder(pf, table)
	if err != nil {
		t.Fatal(err)
	}
	s, err := parquet.NewSchema(table, parquet.Mode(m.Schema.TypeMode))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := parquet.NewWriter(&out, s, m.EmittedAt, parquet.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int {
		for i, c := range table.Columns {
			if c.Name == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	err = parquet.EachRow(pf, func(r pq.Row) error {
		row, err := dec.Text(r)
		if err != nil {
			return err
		}
		edit(row, col)
		return w.Write(row)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func colStat(m snapshot.Manifest, name string) struct{ Sum, Min string } {
	c, _ := m.Stats.Column(name)
	return struct{ Sum, Min string }{c.Sum, c.Min}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

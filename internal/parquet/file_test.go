package parquet

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/testenv"
)

// TestCodecs_EveryCodecIsReadableByDuckDB writes the same rows with each
// codec and has DuckDB read them all back, including the fast SNAPPY encoder
// (s2's Snappy-compatible mode) that replaces parquet-go's.
func TestCodecs_EveryCodecIsReadableByDuckDB(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, acodeTable(), ModeExact)
	var g rowGen
	var rows [][][]byte
	var wantSum int64
	for i := 0; i < 5000; i++ {
		r := g.next()
		cp := make([][]byte, len(r))
		for j := range r {
			cp[j] = append([]byte(nil), r[j]...)
		}
		rows = append(rows, cp)
		wantSum += g.i
	}
	codecs := map[string]string{ // option -> codec name in the file
		"UNCOMPRESSED": "UNCOMPRESSED", "SNAPPY": "SNAPPY", "GZIP": "GZIP",
		"BROTLI": "BROTLI", "LZ4": "LZ4_RAW", "ZSTD": "ZSTD",
	}
	var sqls []string
	var order []string
	for opt := range codecs {
		opts := DefaultOptions()
		opts.Codec = opt
		opts.PageBytes = 16 << 10 // several pages per column
		path := writeFile(t, s, opts, rows)
		f := testenv.SQLString(path)
		sqls = append(sqls,
			"SELECT count(*)::VARCHAR AS n, sum(id)::VARCHAR AS ids, sum(vl_total)::VARCHAR AS total, count(DISTINCT descricao)::VARCHAR AS descr FROM read_parquet("+f+")",
			"SELECT DISTINCT compression FROM parquet_metadata("+f+")")
		order = append(order, opt)
	}
	res := testenv.DuckDB(t).Run(t, sqls...)
	var first map[string]any
	for i, opt := range order {
		got := res[2*i].Rows[0]
		if got["n"] != "5000" || got["ids"] != fmt.Sprint(wantSum) || got["descr"] != fmt.Sprint(len(descricoes)) {
			t.Errorf("%s: DuckDB reads %v", opt, got)
		}
		if first == nil {
			first = got
		} else if got["total"] != first["total"] {
			t.Errorf("%s: sum(vl_total) = %v, other codecs %v", opt, got["total"], first["total"])
		}
		comp := res[2*i+1].Rows
		if len(comp) != 1 || comp[0]["compression"] != codecs[opt] {
			t.Errorf("%s: parquet_metadata compression %v, want %s", opt, comp, codecs[opt])
		}
	}
}

// TestRowGroups_ByteBoundKeepsMemoryFlat writes 3M rows with 4 MiB row
// groups: the file must hold several row groups, each near the bound, and the
// heap must stay far below the data's size while writing.
func TestRowGroups_ByteBoundKeepsMemoryFlat(t *testing.T) {
	testenv.SkipShort(t, "seconds of CPU to write 3M rows")
	if testenv.RaceEnabled {
		// One goroutine writing millions of rows: nothing for the race
		// detector, which makes it minutes long. .ci/run runs it without.
		t.Skip("a heap measurement of one goroutine; run without -race")
	}
	// Not parallel: it measures the heap.
	s := mustSchema(t, acodeTable()[:4], ModeExact)
	path := filepath.Join(t.TempDir(), "big.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts := DefaultOptions()
	opts.RowGroupBytes = 4 << 20
	w, err := NewWriter(f, s, emittedAt, opts)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	var g rowGen
	const rows = 3_000_000
	for i := 0; i < rows; i++ {
		if err := w.Write(g.next()[:4]); err != nil {
			t.Fatal(err)
		}
		if i%250_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse-min(base, ms.HeapInuse))
		}
	}
	size := w.Size()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	if size < st.Size()*9/10 || size > st.Size()*11/10 {
		t.Errorf("Size() before Close = %d, file is %d bytes", size, st.Size())
	}
	if w.Size() != st.Size() {
		t.Errorf("Size() after Close = %d, file is %d bytes", w.Size(), st.Size())
	}
	const heapCap = 48 << 20
	if peak > heapCap {
		t.Errorf("heap grew by %d MiB while writing a %d MiB file; want under %d MiB", peak>>20, st.Size()>>20, heapCap>>20)
	}
	t.Logf("file %d MiB, heap growth peak %d MiB", st.Size()>>20, peak>>20)

	res := testenv.DuckDB(t).Run(t,
		"SELECT count(*)::VARCHAR AS n, max(id)::VARCHAR AS maxid FROM read_parquet("+testenv.SQLString(path)+")",
		"SELECT row_group_id, max(row_group_num_rows)::VARCHAR AS rows, max(row_group_bytes)::VARCHAR AS bytes FROM parquet_metadata("+testenv.SQLString(path)+") GROUP BY row_group_id ORDER BY row_group_id")
	if got := res[0].Rows[0]; got["n"] != "3000000" || got["maxid"] != "3000000" {
		t.Fatalf("DuckDB reads %v, want 3000000 rows", got)
	}
	groups := res[1].Rows
	if len(groups) < 3 {
		t.Fatalf("%d row groups, want several with a 4 MiB bound", len(groups))
	}
	var sizes []string
	for _, g := range groups {
		sizes = append(sizes, fmt.Sprint(g["rows"]))
	}
	t.Logf("%d row groups, rows per group: %s", len(groups), strings.Join(sizes, " "))
}

// TestRowGroups_RowBound closes a row group every RowGroupRows rows.
func TestRowGroups_RowBound(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, acodeTable(), ModeExact)
	var g rowGen
	var rows [][][]byte
	for i := 0; i < 1000; i++ {
		r := g.next()
		cp := make([][]byte, len(r))
		for j := range r {
			cp[j] = append([]byte(nil), r[j]...)
		}
		rows = append(rows, cp)
	}
	opts := DefaultOptions()
	opts.RowGroupRows = 300
	path := writeFile(t, s, opts, rows)
	got := testenv.DuckDB(t).Query(t, "SELECT DISTINCT row_group_id, row_group_num_rows::VARCHAR AS n FROM parquet_metadata("+testenv.SQLString(path)+") ORDER BY row_group_id")
	var ns []string
	for _, r := range got {
		ns = append(ns, fmt.Sprint(r["n"]))
	}
	if strings.Join(ns, ",") != "300,300,300,100" {
		t.Fatalf("rows per row group %v, want 300,300,300,100", ns)
	}
}

// TestEmptyFileIsValid: a stream with no rows still yields a readable file.
func TestEmptyFileIsValid(t *testing.T) {
	t.Parallel()
	path := writeFile(t, mustSchema(t, acodeTable(), ModeExact), DefaultOptions(), nil)
	res := testenv.DuckDB(t).Run(t, "SELECT count(*)::VARCHAR AS n FROM read_parquet("+testenv.SQLString(path)+")",
		"DESCRIBE SELECT * FROM read_parquet("+testenv.SQLString(path)+")")
	if res[0].Rows[0]["n"] != "0" || len(res[1].Rows) != len(acodeTable())+2 {
		t.Fatalf("empty file: %v, %d columns", res[0].Rows, len(res[1].Rows))
	}
}

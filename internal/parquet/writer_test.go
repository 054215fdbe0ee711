package parquet

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/testenv"
)

// seededIDs makes a writer's _airbyte_ab_id values repeatable, so two files
// of the same rows can be compared whole.
func seededIDs(w *Writer) { w.ids = &uuidGen{rng: rand.NewChaCha8([32]byte{7})} }

// writeOurs writes rows with the Writer, its ids seeded.
func writeOurs(t testing.TB, s *Schema, opts Options, rows [][][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ours.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, s, emittedAt, opts)
	if err != nil {
		t.Fatal(err)
	}
	seededIDs(w)
	for i, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeReference writes rows the way the Writer did before it wrote files
// itself: the same conversion (Writer.encode), its values handed to
// parquet-go's column writers as pq.Values.
func writeReference(t testing.TB, s *Schema, opts Options, rows [][][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "reference.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	conv, err := NewWriter(io.Discard, s, emittedAt, opts)
	if err != nil {
		t.Fatal(err)
	}
	seededIDs(conv)
	codec, err := codecFor(opts.Codec)
	if err != nil {
		t.Fatal(err)
	}
	root := s.rootPlain
	if opts.Dictionary {
		root = s.root
	}
	pw := pq.NewWriter(f, root, pq.Compression(codec), pq.PageBufferSize(cmpOr(opts.PageBytes, DefaultPageBytes)),
		pq.DataPageVersion(1), pq.DataPageStatistics(false),
		&pq.WriterConfig{DictionaryMaxBytes: int64(cmpOr(opts.PageBytes, DefaultPageBytes))})
	for i, r := range rows {
		conv.n, conv.arena = 0, conv.arena[:0]
		for c := range s.columns {
			if err := conv.encode(&s.columns[c], r[c]); err != nil {
				t.Fatalf("row %d: %v", i, err)
			}
		}
		start := len(conv.arena)
		conv.arena = conv.ids.appendUUID(conv.arena)
		conv.setBytes(s.abID, start, 0)
		conv.setBits(s.emitted, conv.emitted, 0)
		if p := s.props; p >= 0 {
			conv.null(p)
			conv.null(p + 1)
		}
		for leaf, cw := range pw.ColumnWriters() {
			v := pqValue(&s.leafInfo[leaf], conv.vals[leaf*batchRows], conv.arena).Level(0, int(conv.vals[leaf*batchRows].def), leaf)
			if _, err := cw.WriteRowValues([]pq.Value{v}); err != nil {
				t.Fatal(err)
			}
		}
		if rg := cmpOr(opts.RowGroupRows, DefaultRowGroupRows); (i+1)%rg == 0 {
			if err := pw.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if conv.geo != nil {
		pw.SetKeyValueMetadata("geo", conv.geo.metadata(s.columns))
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func pqValue(li *leafInfo, v val, arena []byte) pq.Value {
	if v.def < li.maxDef {
		return pq.Value{}
	}
	switch li.phys {
	case format.Boolean:
		return pq.BooleanValue(v.x != 0)
	case format.Int32:
		return pq.Int32Value(int32(v.x))
	case format.Int64:
		return pq.Int64Value(int64(v.x))
	case format.Float:
		return pq.FloatValue(math.Float32frombits(uint32(v.x)))
	case format.Double:
		return pq.DoubleValue(math.Float64frombits(v.x))
	case format.FixedLenByteArray:
		return pq.FixedLenByteArrayValue(slices.Clone(arena[v.off:v.end]))
	default:
		return pq.ByteArrayValue(slices.Clone(arena[v.off:v.end]))
	}
}

// mixedRows makes n rows from the cases' values: each column cycles through
// its values at its own pace, so NULLs come alone, in runs (every 50th row
// is NULL throughout, and rows 300-420 too) and never, page after page.
func mixedRows(cases []typeCase, n int) [][][]byte {
	rows := make([][][]byte, n)
	for r := range rows {
		for k, c := range cases {
			v := c.in[(r/(k%5+1)+k)%len(c.in)]
			if r%50 == 0 || r >= 300 && r < 420 {
				v = nil
			}
			if v == nil {
				rows[r] = append(rows[r], nil)
			} else {
				rows[r] = append(rows[r], []byte(v.(string)))
			}
		}
	}
	return rows
}

// TestWriter_SameValuesAsParquetGoPath writes a table of every type family
// in both modes, with small pages (many per chunk, dictionaries falling
// back to PLAIN) and small row groups, and checks that parquet-go and
// DuckDB read the same values from this writer's file as from the file the
// parquet-go path writes from the same converted values.
func TestWriter_SameValuesAsParquetGoPath(t *testing.T) {
	t.Parallel()
	airbyte := []typeCase{}
	for _, c := range exactCases {
		if c.col.Name != "geo" && c.col.Name != "d6530" && c.col.Name != "biu" {
			airbyte = append(airbyte, c)
		}
	}
	duck := testenv.DuckDB(t)
	for _, tc := range []struct {
		name  string
		mode  Mode
		cases []typeCase
		dict  bool
		codec string
	}{
		{"exact", ModeExact, exactCases, true, "SNAPPY"},
		{"exact-plain", ModeExact, exactCases, false, "ZSTD"},
		{"airbyte", ModeAirbyte, airbyte, true, "UNCOMPRESSED"},
	} {
		cols, _ := casesTable(tc.cases)
		s := mustSchema(t, cols, tc.mode)
		rows := mixedRows(tc.cases, 3000)
		opts := DefaultOptions()
		opts.Dictionary = tc.dict
		opts.Codec = tc.codec
		opts.PageBytes = 4 << 10
		opts.RowGroupRows = 1100
		ours, ref := writeOurs(t, s, opts, rows), writeReference(t, s, opts, rows)

		leaves, got := readBack(t, ours)
		refLeaves, want := readBack(t, ref)
		if !reflect.DeepEqual(leaves, refLeaves) {
			t.Fatalf("%s: leaves %v, parquet-go path %v", tc.name, leaves, refLeaves)
		}
		if len(got) != len(rows) || len(want) != len(rows) {
			t.Fatalf("%s: %d rows read, %d from the parquet-go path, %d written", tc.name, len(got), len(want), len(rows))
		}
		for r := range got {
			if !reflect.DeepEqual(got[r], want[r]) {
				t.Fatalf("%s: row %d\n got %v\nwant %v", tc.name, r, got[r], want[r])
			}
		}
		a, b := "read_parquet("+testenv.SQLString(ours)+")", "read_parquet("+testenv.SQLString(ref)+")"
		cast := "*"
		if tc.mode == ModeExact {
			cast = "* REPLACE (geo::VARCHAR AS geo)"
		}
		res := duck.Run(t,
			fmt.Sprintf("SELECT count(*)::VARCHAR AS n FROM (SELECT %s FROM %s EXCEPT ALL SELECT %s FROM %s)", cast, a, cast, b),
			fmt.Sprintf("SELECT count(*)::VARCHAR AS n FROM (SELECT %s FROM %s EXCEPT ALL SELECT %s FROM %s)", cast, b, cast, a),
			"SELECT count(*)::VARCHAR AS n FROM "+a)
		if res[0].Rows[0]["n"] != "0" || res[1].Rows[0]["n"] != "0" || res[2].Rows[0]["n"] != "3000" {
			t.Errorf("%s: DuckDB: %v rows only in ours, %v only in the parquet-go path's, %v rows", tc.name,
				res[0].Rows[0]["n"], res[1].Rows[0]["n"], res[2].Rows[0]["n"])
		}
	}
}

// chunkMeta returns the footer of a file.
func chunkMeta(t testing.TB, path string) (*pq.File, *format.FileMetaData) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return f, f.Metadata()
}

func chunkColumn(md *format.FileMetaData, rg int, name string) (int, *format.ColumnMetaData) {
	for i := range md.RowGroups[rg].Columns {
		c := &md.RowGroups[rg].Columns[i].MetaData
		if strings.Join(c.PathInSchema, ".") == name {
			return i, c
		}
	}
	return -1, nil
}

// TestWriter_DictionaryFallsBackToPlainPerChunk: a string column whose
// distinct values outgrow PageBytes switches to PLAIN pages in that chunk
// only; the next row group dictionary-encodes again, and every value reads
// back.
func TestWriter_DictionaryFallsBackToPlainPerChunk(t *testing.T) {
	t.Parallel()
	cols := []schema.Column{col("id", "int", "int(11)", false, 10, 0), col("code", "varchar", "varchar(40)", false, 0, 0),
		col("uf", "char", "char(2)", false, 0, 0)}
	s := mustSchema(t, cols, ModeExact)
	var rows [][][]byte
	for i := range 4000 {
		code := fmt.Sprintf("code-%08d", i)
		if i >= 2000 {
			code = fmt.Sprintf("code-%d", i%3) // the second row group: few values
		}
		rows = append(rows, bs(fmt.Sprint(i), code, []string{"SP", "RJ"}[i%2]))
	}
	opts := DefaultOptions()
	opts.PageBytes = 8 << 10
	opts.RowGroupRows = 2000
	path := writeOurs(t, s, opts, rows)
	_, md := chunkMeta(t, path)
	if len(md.RowGroups) != 2 {
		t.Fatalf("%d row groups, want 2", len(md.RowGroups))
	}
	pages := func(rg int, name string) (dict, plain int32) {
		_, c := chunkColumn(md, rg, name)
		for _, st := range c.EncodingStats {
			switch {
			case st.PageType == format.DataPage && st.Encoding == format.RLEDictionary:
				dict += st.Count
			case st.PageType == format.DataPage && st.Encoding == format.Plain:
				plain += st.Count
			}
		}
		return dict, plain
	}
	if d, p := pages(0, "code"); d == 0 || p == 0 {
		t.Errorf("row group 0 code: %d dictionary and %d PLAIN pages, want both (the fallback)", d, p)
	}
	if d, p := pages(1, "code"); d == 0 || p != 0 {
		t.Errorf("row group 1 code: %d dictionary and %d PLAIN pages, want the dictionary again", d, p)
	}
	if d, p := pages(0, "uf"); d == 0 || p != 0 {
		t.Errorf("row group 0 uf: %d dictionary and %d PLAIN pages, want dictionary only", d, p)
	}
	got := testenv.DuckDB(t).Query(t, "SELECT count(*)::VARCHAR AS n, count(DISTINCT code)::VARCHAR AS codes, "+
		"sum(CASE WHEN code = 'code-'||lpad(id::VARCHAR, 8, '0') THEN 1 ELSE 0 END)::VARCHAR AS exact "+
		"FROM read_parquet("+testenv.SQLString(path)+")")
	if g := got[0]; g["n"] != "4000" || g["codes"] != "2003" || g["exact"] != "2000" {
		t.Errorf("DuckDB reads %v, want 4000 rows, 2003 codes, 2000 of them the row's own", g)
	}
}

// TestWriter_PagesNullsAndIndexes checks the page index against the rows:
// pages close near PageBytes, a page of NULLs only is a null page, null
// counts add up, and each page's first row index follows the pages before.
func TestWriter_PagesNullsAndIndexes(t *testing.T) {
	t.Parallel()
	cols := []schema.Column{col("id", "bigint", "bigint(20)", false, 19, 0), col("maybe", "int", "int(11)", false, 10, 0),
		col("txt", "varchar", "varchar(20)", false, 0, 0)}
	s := mustSchema(t, cols, ModeExact)
	var rows [][][]byte
	nulls := 0
	for i := range 10_000 {
		r := bs(fmt.Sprint(i), fmt.Sprint(-i), fmt.Sprintf("t%d", i%7))
		if i >= 1000 && i < 4000 || i%3 == 0 { // one long run, then every third
			r[1] = nil
			nulls++
		}
		rows = append(rows, r)
	}
	opts := DefaultOptions()
	opts.PageBytes = 2 << 10
	path := writeOurs(t, s, opts, rows)
	f, md := chunkMeta(t, path)
	minMaybe := int32(-9998)
	leaf, c := chunkColumn(md, 0, "maybe")
	if c.Statistics.NullCount != int64(nulls) {
		t.Errorf("chunk null count %d, want %d", c.Statistics.NullCount, nulls)
	}
	if got, want := c.Statistics.MinValue, plainBits(format.Int32, uint64(uint32(minMaybe))); !bytes.Equal(got, want) {
		t.Errorf("chunk min %x, want %x (-9998)", got, want)
	}
	ci, oi := f.ColumnIndexes()[leaf], f.OffsetIndexes()[leaf]
	if len(ci.NullPages) < 5 || len(ci.NullPages) != len(oi.PageLocations) {
		t.Fatalf("%d pages in the column index, %d in the offset index", len(ci.NullPages), len(oi.PageLocations))
	}
	var sumNulls int64
	nullPages := 0
	for p, loc := range oi.PageLocations {
		sumNulls += ci.NullCounts[p]
		if ci.NullPages[p] {
			nullPages++
		}
		if p > 0 && loc.FirstRowIndex <= oi.PageLocations[p-1].FirstRowIndex {
			t.Errorf("page %d starts at row %d, after page %d's %d", p, loc.FirstRowIndex, p-1, oi.PageLocations[p-1].FirstRowIndex)
		}
		if p > 0 && loc.Offset != oi.PageLocations[p-1].Offset+int64(oi.PageLocations[p-1].CompressedPageSize) {
			t.Errorf("page %d at %d, not right after page %d", p, loc.Offset, p-1)
		}
	}
	if sumNulls != int64(nulls) || nullPages == 0 {
		t.Errorf("pages' null counts sum to %d (want %d), %d null pages (want some: rows 1000-3999)", sumNulls, nulls, nullPages)
	}
	got := testenv.DuckDB(t).Query(t, "SELECT count(maybe)::VARCHAR AS n, sum(maybe + id)::VARCHAR AS zero, "+
		"count(*) FILTER (WHERE maybe IS NULL AND NOT (id BETWEEN 1000 AND 3999 OR id % 3 = 0))::VARCHAR AS wrong "+
		"FROM read_parquet("+testenv.SQLString(path)+")")
	if g := got[0]; g["n"] != fmt.Sprint(10_000-nulls) || g["zero"] != "0" || g["wrong"] != "0" {
		t.Errorf("DuckDB reads %v", g)
	}
}

// TestWriter_DecimalBoundsAreSigned: FIXED_LEN_BYTE_ARRAY decimals order as
// two's complement numbers, so a negative value is the chunk's min.
func TestWriter_DecimalBoundsAreSigned(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, []schema.Column{col("v", "decimal", "decimal(20,2)", false, 20, 2)}, ModeExact)
	path := writeOurs(t, s, DefaultOptions(), [][][]byte{bs("5.00"), bs("-7.25"), bs("3.10"), {nil}})
	_, md := chunkMeta(t, path)
	_, c := chunkColumn(md, 0, "v")
	st := c.Statistics
	neg := bytes.Repeat([]byte{0xff}, len(st.MinValue))
	neg[len(neg)-1], neg[len(neg)-2] = byte(-725&0xff), byte(-725>>8&0xff)
	if !bytes.Equal(st.MinValue, neg) || st.MaxValue[len(st.MaxValue)-1] != 0xf4 || st.MaxValue[len(st.MaxValue)-2] != 0x01 {
		t.Errorf("min %x max %x, want -725 and 500 unscaled", st.MinValue, st.MaxValue)
	}
	got := testenv.DuckDB(t).Query(t, "SELECT count(*)::VARCHAR AS n FROM read_parquet("+testenv.SQLString(path)+") WHERE v < 0")
	if got[0]["n"] != "1" {
		t.Errorf("DuckDB finds %v negative values, want 1", got[0]["n"])
	}
}

// TestWriter_RowGroupsBoundedByBytesAndSizeEstimate: with a small byte
// bound the writer closes row groups near it, and Size() before Close
// tracks the file.
func TestWriter_RowGroupsBoundedByBytesAndSizeEstimate(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, acodeTable(), ModeExact)
	for _, spool := range []bool{false, true} {
		opts := DefaultOptions()
		opts.RowGroupBytes = 1 << 20
		if spool {
			opts.SpoolDir = t.TempDir()
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, s, emittedAt, opts)
		if err != nil {
			t.Fatal(err)
		}
		var g rowGen
		for range 60_000 {
			if err := w.Write(g.next()); err != nil {
				t.Fatal(err)
			}
		}
		before := w.Size()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if n := int64(buf.Len()); w.Size() != n || before < n*9/10 || before > n*11/10 {
			t.Errorf("spool=%v: Size() %d before Close, %d after, file %d", spool, before, w.Size(), n)
		}
		f, err := pq.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		groups := f.Metadata().RowGroups
		if len(groups) < 4 {
			t.Fatalf("spool=%v: %d row groups of a %d KiB file with a 1 MiB bound", spool, len(groups), buf.Len()>>10)
		}
		// The bound counts the open pages uncompressed, so a row group of
		// one page per column ends below it once compressed.
		for i, rg := range groups[:len(groups)-1] {
			if rg.TotalCompressedSize < 256<<10 || rg.TotalCompressedSize > 1<<20+64<<10 {
				t.Errorf("spool=%v: row group %d holds %d KiB, want under the 1 MiB bound, not far", spool, i, rg.TotalCompressedSize>>10)
			}
		}
		if spool {
			if left, _ := os.ReadDir(opts.SpoolDir); len(left) != 0 {
				t.Errorf("spool dir holds %d files after Close", len(left))
			}
		}
	}
}

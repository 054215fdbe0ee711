package parquet

import (
	"bytes"
	"os"
	"testing"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// TestEncodings_AreThoseEveryReaderSupports checks the file layout Athena,
// Spark and DuckDB all read: V1 data pages, PLAIN values, RLE levels, and
// RLE_DICTIONARY for string columns only when the dictionary is on.
func TestEncodings_AreThoseEveryReaderSupports(t *testing.T) {
	t.Parallel()
	cols, rows := casesTable(exactCases)
	s := mustSchema(t, cols, ModeExact)
	for _, dict := range []bool{true, false} {
		opts := DefaultOptions()
		opts.Dictionary = dict
		data, err := os.ReadFile(writeFile(t, s, opts, rows))
		if err != nil {
			t.Fatal(err)
		}
		f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, cc := range f.Metadata().RowGroups[0].Columns {
			md := cc.MetaData
			name := md.PathInSchema[0]
			isString := name == "nome" || name == "cnpj" || name == "obs" || name == "uf" || name == "tags" || name == "doc"
			usesDict := false
			for _, e := range md.Encoding {
				switch e {
				case format.Plain, format.RLE, format.BitPacked:
				case format.RLEDictionary:
					usesDict = true
				default:
					t.Errorf("dict=%v %s: encoding %s", dict, name, e)
				}
			}
			if usesDict != (dict && isString) {
				t.Errorf("dict=%v %s: RLE_DICTIONARY used=%v", dict, name, usesDict)
			}
			for _, st := range md.EncodingStats {
				if st.PageType != format.DataPage && st.PageType != format.DictionaryPage {
					t.Errorf("dict=%v %s: page type %s, want V1 data pages", dict, name, st.PageType)
				}
			}
			if len(md.EncodingStats) == 0 {
				t.Errorf("%s: no encoding stats to check page types with", name)
			}
		}
	}
}

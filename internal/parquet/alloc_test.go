package parquet

import (
	"io"
	"testing"

	"github.com/acode-dev/acode/internal/schema"
)

// TestWrite_NoAllocationPerValueOnCommonTypes guards the hot path: encoding
// a row of the common types (integers, DECIMAL, dates, TIME, text) does not
// allocate per value. The column writers allocate now and then when pages
// close, so the bound is on the average per row, far below one per value.
func TestWrite_NoAllocationPerValueOnCommonTypes(t *testing.T) {
	cols := []schema.Column{
		col("id", "bigint", "bigint(20)", false, 19, 0),
		col("qtd", "int", "int(11)", false, 10, 0),
		col("flag", "tinyint", "tinyint(1)", false, 3, 0),
		col("vl", "decimal", "decimal(15,2)", false, 15, 2),
		col("vl20", "decimal", "decimal(20,4)", false, 20, 4),
		col("dt", "date", "date", false, 0, 0),
		col("dtm", "datetime", "datetime", false, 0, 0),
		col("tm", "time", "time", false, 0, 0),
		col("peso", "double", "double", false, 0, 0),
		col("nome", "varchar", "varchar(50)", false, 0, 0),
	}
	w, err := NewWriter(io.Discard, mustSchema(t, cols, ModeExact), emittedAt, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	row := bs("123456789", "-42", "2", "-1234.56", "12345678.1234", "2025-08-07", "2025-08-07 12:34:56", "-12:34:56", "1.25", "Farmácia São João")
	for range 4 * batchRows { // warm up: buffers and pages reach their size
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	perRow := testing.AllocsPerRun(4*batchRows, func() {
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%.3f allocations per row of %d values", perRow, len(cols))
	if perRow > 0.5 {
		t.Errorf("%.2f allocations per row of %d values, want none per value", perRow, len(cols))
	}
}

package syncer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/testenv"
)

// A table with every MySQL type family and its edge values goes through the
// whole pipeline (discover, range read, encode, stage, commit) and DuckDB,
// an independent reader, sees the exact values with the exact types.
func TestSync_EveryTypeFamilyEndToEnd(t *testing.T) {
	t.Parallel()
	m := testenv.SharedMariaDB(t)
	database := m.NewDatabase(t)
	m.Exec(t, "CREATE TABLE `"+database+"`.edge (id BIGINT PRIMARY KEY, "+
		"i8 TINYINT, u8 TINYINT UNSIGNED, i32 INT, u32 INT UNSIGNED, u64 BIGINT UNSIGNED, "+
		"d20 DECIMAL(20,4), d5 DECIMAL(5,2), f FLOAT, dbl DOUBLE, b TINYINT(1), bit1 BIT(1), "+
		"dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME, yr YEAR, "+
		"s VARCHAR(40), txt TEXT, e ENUM('a','b'), j JSON, bin VARBINARY(8))")
	// Zero dates need a lax sql_mode, for this statement only.
	m.Exec(t, "SET STATEMENT sql_mode='' FOR INSERT INTO `"+database+"`.edge VALUES "+
		"(1, -128, 255, -2147483648, 4294967295, 18446744073709551615, "+
		"9999999999999999.9999, -999.99, 1.5, -2.25e300, 1, b'1', "+
		"'2025-08-07', '2025-08-07 12:34:56.123456', '2025-08-07 03:04:05.000001', '23:59:59', 2025, "+
		"'Farmácia São João 💊', '', 'b', '{\"k\": 1}', 0x00FF10), "+
		"(2, NULL, NULL, NULL, NULL, NULL, -9999999999999999.9999, NULL, NULL, NULL, 0, b'0', "+
		"'0000-00-00', '0000-00-00 00:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
	p := testenv.NewProject(t, m, database, nil)
	conn := `resource_name: "connection_edge"
definition_type: connection
source_configuration_path: sources/source_mysql_acode/configuration.yaml
destination_configuration_path: destinations/destination_local_acode/configuration.yaml
configuration:
  status: active
  schedule_type: manual
  sync_catalog:
    streams:
      - config:
          cursor_field: []
          destination_sync_mode: append
          primary_key: [[id]]
          selected: true
          sync_mode: full_refresh
        stream:
          name: edge
          namespace: ` + database + "\n"
	if err := os.MkdirAll(filepath.Join(p.Dir, "connections", "connection_edge"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Dir, "connections", "connection_edge", "configuration.yaml"), []byte(conn), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &fixture{p}
	res, err := f.run(t, "connection_edge", Options{})
	if err != nil {
		t.Fatal(err)
	}
	glob := testenv.SQLString(filepath.Join(p.LocalRoot(), res.Streams[0].Partition, "*.parquet"))
	out := testenv.DuckDB(t).Run(t,
		"SELECT id, i8, u8, i32, u32, u64, d20, d5, f, dbl, b, bit1, dt, dtm, ts, tm, yr, s, txt, e, j, hex(bin) AS bin, "+
			"_airbyte_ab_id IS NOT NULL AS has_id, _airbyte_emitted_at IS NOT NULL AS has_emitted FROM read_parquet("+glob+") ORDER BY id")
	got := out[0]
	wantTypes := "BIGINT,TINYINT,SMALLINT,INTEGER,BIGINT,UBIGINT,DECIMAL(20,4),DECIMAL(5,2),FLOAT,DOUBLE,TINYINT,BOOLEAN," +
		"DATE,TIMESTAMP,TIMESTAMP WITH TIME ZONE,BIGINT,INTEGER,VARCHAR,VARCHAR,VARCHAR,VARCHAR,VARCHAR,BOOLEAN,BOOLEAN"
	if types := strings.Join(got.Types, ","); types != wantTypes {
		t.Errorf("DuckDB types:\n got  %s\n want %s", types, wantTypes)
	}
	want := []map[string]string{
		{"i8": "-128", "u8": "255", "i32": "-2147483648", "u32": "4294967295", "u64": "18446744073709551615",
			"d20": "9999999999999999.9999", "d5": "-999.99", "b": "1", "bit1": "true", "dt": "2025-08-07",
			"dtm": "2025-08-07 12:34:56.123456", "tm": "86399000000", "yr": "2025", "s": "Farmácia São João 💊", "txt": "",
			"e": "b", "bin": "00FF10", "has_id": "true", "has_emitted": "true"},
		{"i8": "<nil>", "u64": "<nil>", "d20": "-9999999999999999.9999", "b": "0", "bit1": "false",
			"dt": "<nil>", "dtm": "<nil>", "ts": "<nil>", "s": "<nil>"},
	}
	if len(got.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(got.Rows))
	}
	for i, w := range want {
		for col, v := range w {
			if g := str(got.Rows[i][col]); g != v {
				t.Errorf("row %d %s = %q, want %q", i+1, col, g, v)
			}
		}
	}
	if ts := str(got.Rows[0]["ts"]); !strings.HasPrefix(ts, "2025-08-07 03:04:05.000001") {
		t.Errorf("TIMESTAMP = %q, want 2025-08-07 03:04:05.000001 UTC", ts)
	}
}

func str(v any) string {
	if v == nil {
		return "<nil>"
	}
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(fmtAny(v), "\n", ""), "\t", ""))
}

func fmtAny(v any) string { return fmt.Sprint(v) }

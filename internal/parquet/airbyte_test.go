package parquet

import (
	"fmt"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestAirbyte_LayoutMatchesDestinationS3 checks the compatibility mode
// against what destination-s3 0.3.23 files look like to a reader: metadata
// columns first, integers BIGINT, numbers DOUBLE, dates and timestamps as
// {member0, member1} structs, binaries base64 text and a NULL
// _airbyte_additional_properties map.
func TestAirbyte_LayoutMatchesDestinationS3(t *testing.T) {
	t.Parallel()
	cols := []schema.Column{
		col("id", "bigint", "bigint(20)", false, 19, 0),
		col("qtd", "int", "int(10) unsigned", true, 10, 0),
		col("vl", "decimal", "decimal(15,2)", false, 15, 2),
		col("ativo", "tinyint", "tinyint(1)", false, 3, 0),
		col("dt", "date", "date", false, 0, 0),
		col("dtm", "datetime", "datetime(6)", false, 6, 0),
		col("ts", "timestamp", "timestamp", false, 0, 0),
		col("tm", "time", "time", false, 0, 0),
		col("nome", "varchar", "varchar(50)", false, 0, 0),
		col("raw", "blob", "blob", false, 0, 0),
	}
	rows := [][][]byte{
		bs("1", "4294967295", "-1234.56", "1", "2025-08-07", "2025-08-07 12:34:56.123456", "2025-08-07 12:34:56", "12:34:56", "Ação 💊", "\x00\xff"),
		bs("2", "0", "0.10", "0", "0000-00-00", "0000-00-00 00:00:00.000000", "1970-01-01 00:00:00", "-01:30:00", "", ""),
		{[]byte("3"), nil, nil, nil, nil, nil, nil, nil, nil, nil},
	}
	s := mustSchema(t, cols, ModeAirbyte)
	path := writeFile(t, s, DefaultOptions(), rows)
	f := "read_parquet(" + testenv.SQLString(path) + ")"
	res := testenv.DuckDB(t).Run(t,
		"SET TimeZone='UTC'",
		"SELECT * FROM "+f+" LIMIT 0",
		`SELECT id::VARCHAR AS id, qtd::VARCHAR AS qtd, vl, ativo, dt.member0::VARCHAR AS dt0, dt.member1 AS dt1,
		        dtm.member0::VARCHAR AS dtm0, ts.member0::VARCHAR AS ts0, tm.member0::VARCHAR AS tm0, tm.member1 AS tm1,
		        nome, raw, _airbyte_additional_properties IS NULL AS props_null, (dt IS NULL) AS dt_null
		   FROM `+f+` ORDER BY id`,
	)
	wantTypes := []string{
		"_airbyte_ab_id VARCHAR", "_airbyte_emitted_at TIMESTAMP WITH TIME ZONE",
		"id BIGINT", "qtd BIGINT", "vl DOUBLE", "ativo BOOLEAN",
		"dt STRUCT(\"member0\" DATE, \"member1\" VARCHAR)",
		"dtm STRUCT(\"member0\" TIMESTAMP WITH TIME ZONE, \"member1\" VARCHAR)",
		"ts STRUCT(\"member0\" TIMESTAMP WITH TIME ZONE, \"member1\" VARCHAR)",
		"tm STRUCT(\"member0\" TIME WITH TIME ZONE, \"member1\" VARCHAR)",
		"nome VARCHAR", "raw VARCHAR",
		"_airbyte_additional_properties MAP(VARCHAR, VARCHAR)",
	}
	var gotTypes []string
	for i, c := range res[1].Columns {
		gotTypes = append(gotTypes, c+" "+res[1].Types[i])
	}
	if strings.Join(gotTypes, "\n") != strings.Join(wantTypes, "\n") {
		t.Errorf("DuckDB sees columns\n%s\nwant\n%s", strings.Join(gotTypes, "\n"), strings.Join(wantTypes, "\n"))
	}
	want := []map[string]any{
		{"id": "1", "qtd": "4294967295", "vl": "-1234.56", "ativo": "true", "dt0": "2025-08-07", "dt1": nil,
			"dtm0": "2025-08-07 12:34:56.123456+00", "ts0": "2025-08-07 12:34:56+00", "tm0": "12:34:56+00", "tm1": nil,
			"nome": "Ação 💊", "raw": "AP8=", "props_null": "true", "dt_null": "false"},
		{"id": "2", "qtd": "0", "vl": "0.1", "ativo": "false", "dt0": nil, "dt1": nil,
			"dtm0": nil, "ts0": "1970-01-01 00:00:00+00", "tm0": nil, "tm1": "-01:30:00",
			"nome": "", "raw": "", "props_null": "true", "dt_null": "true"},
		{"id": "3", "qtd": nil, "vl": nil, "ativo": nil, "dt0": nil, "dt1": nil, "dtm0": nil, "ts0": nil,
			"tm0": nil, "tm1": nil, "nome": nil, "raw": nil, "props_null": "true", "dt_null": "true"},
	}
	got := res[2].Rows
	if len(got) != len(want) {
		t.Fatalf("DuckDB reads %d rows, want %d", len(got), len(want))
	}
	for r := range want {
		for k, w := range want[r] {
			g := got[r][k]
			if g != nil {
				g = fmt.Sprint(g)
			}
			if !sameValue(g, w, k == "vl") {
				t.Errorf("row %d %s = %v, want %v", r, k, g, w)
			}
		}
	}

	leaves, back := readBack(t, path)
	if len(back) != 3 || leaves[6] != "dt.member0" || back[0][6] != "2025-08-07" || back[1][6] != nil ||
		back[1][13] != "-01:30:00" || back[0][15] != "AP8=" {
		t.Errorf("parquet-go reads leaves %v, rows %v", leaves, back)
	}

	fields := s.Fields()
	if fields[0].Name != ColumnABID || fields[1].Name != ColumnEmittedAt || fields[6].Name != "dt.member0" ||
		fields[6].Physical != "INT32" || fields[6].Logical != "DATE" || fields[7].Name != "dt.member1" {
		t.Errorf("Fields() = %+v", fields)
	}
}

func bs(vals ...string) [][]byte {
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = []byte(v)
	}
	return out
}

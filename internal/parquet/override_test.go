package parquet

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestOverride_TypesAsAskedAndOnlyExactValues checks each override in a
// real file as DuckDB reads it: boolean takes 0 and 1 and refuses 2 (no
// silent true), string keeps a partial zero date's text, time keeps a time
// of day and refuses a duration past a day.
func TestOverride_TypesAsAskedAndOnlyExactValues(t *testing.T) {
	t.Parallel()
	cols := []schema.Column{
		col("flag", "tinyint", "tinyint(1)", false, 3, 0),
		col("dt", "date", "date", false, 0, 0),
		col("tm", "time", "time", false, 0, 0),
		col("b1", "bit", "bit(1)", false, 1, 0),
	}
	tbl := schema.Table{Name: "t", Columns: cols}
	s, err := NewSchema(tbl, ModeExact,
		Override{Column: "FLAG", Type: TypeBoolean}, Override{Column: "dt", Type: TypeString}, Override{Column: "tm", Type: TypeTime},
		Override{Column: "b1", Type: TypeBoolean})
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, s, DefaultOptions(), [][][]byte{
		bs("1", "2025-00-10", "23:59:59", "\x01"),
		bs("0", "0000-00-00", "00:00:00", "\x00"),
	})
	res := testenv.DuckDB(t).Run(t, "SELECT * FROM read_parquet("+testenv.SQLString(path)+") LIMIT 0",
		"SELECT flag::VARCHAR AS flag, dt, tm::VARCHAR AS tm, b1::VARCHAR AS b1 FROM read_parquet("+testenv.SQLString(path)+")")
	if got := strings.Join(res[0].Types[:4], ","); got != "BOOLEAN,VARCHAR,TIME,BOOLEAN" {
		t.Errorf("DuckDB types %s, want BOOLEAN,VARCHAR,TIME,BOOLEAN", got)
	}
	want := []map[string]any{{"flag": "true", "dt": "2025-00-10", "tm": "23:59:59", "b1": "true"},
		{"flag": "false", "dt": "0000-00-00", "tm": "00:00:00", "b1": "false"}}
	for r, w := range want {
		for k, v := range w {
			if got := res[1].Rows[r][k]; got != v {
				t.Errorf("row %d %s = %v, want %v", r, k, got, v)
			}
		}
	}

	w, _ := NewWriter(&bytes.Buffer{}, s, emittedAt, DefaultOptions())
	for _, row := range [][][]byte{bs("2", "x", "00:00:00", "\x00"), bs("1", "x", "24:00:00", "\x00"), bs("-1", "x", "00:00:00", "\x00")} {
		var ve *ValueError
		if err := w.Write(row); !errors.As(err, &ve) {
			t.Errorf("row %q: got %v, want a ValueError", row, err)
		}
	}
	if !errors.Is(w.Write(bs("2", "x", "00:00:00", "\x00")), errNotBoolean) {
		t.Error("boolean override took 2")
	}
}

func TestOverride_BadEntriesNameColumnAndReason(t *testing.T) {
	t.Parallel()
	tbl := schema.Table{Name: "t", Columns: []schema.Column{
		col("nome", "varchar", "varchar(10)", false, 0, 0),
		col("raw", "blob", "blob", false, 0, 0),
		col("n", "int", "int(11)", false, 10, 0),
	}}
	for _, c := range []struct {
		o    Override
		want string
	}{
		{Override{Column: "missing", Type: TypeString}, "no such column"},
		{Override{Column: "nome", Type: TypeBoolean}, "not an integer"},
		{Override{Column: "raw", Type: TypeString}, "holds bytes"},
		{Override{Column: "n", Type: TypeTime}, "not a TIME"},
		{Override{Column: "n", Type: "uuid"}, "unknown type"},
	} {
		_, err := NewSchema(tbl, ModeExact, c.o)
		var oe *OverrideError
		if !errors.As(err, &oe) || !errors.Is(err, ErrBadOverride) || !strings.Contains(err.Error(), c.o.Column) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an OverrideError naming %s and saying %q", c.o, err, c.o.Column, c.want)
		}
	}
}

// TestWriter_CountsValuesWrittenAsNull checks that zero and partial zero
// dates, the values exact mode cannot hold, are counted per column.
func TestWriter_CountsValuesWrittenAsNull(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, []schema.Column{
		col("dt", "date", "date", false, 0, 0),
		col("dtm", "datetime", "datetime(3)", false, 3, 0),
		col("n", "int", "int(11)", false, 10, 0),
	}, ModeExact)
	w, _ := NewWriter(&bytes.Buffer{}, s, emittedAt, DefaultOptions())
	for _, r := range [][][]byte{
		bs("2025-00-10", "2025-01-00 00:00:00.000", "1"),
		bs("0000-00-00", "2025-01-01 00:00:00.000", "2"),
		bs("2025-01-01", "0000-00-00 00:00:00.000", "3"),
		{nil, nil, nil},
	} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	got := w.Unheld()
	if len(got) != 2 || got["dt"] != 2 || got["dtm"] != 2 {
		t.Errorf("Unheld() = %v, want dt 2, dtm 2", got)
	}
	w2, _ := NewWriter(&bytes.Buffer{}, s, emittedAt, DefaultOptions())
	if err := w2.Write(bs("2025-01-01", "2025-01-01 00:00:00", "1")); err != nil || w2.Unheld() != nil {
		t.Errorf("clean rows: %v, Unheld() = %v, want nil", err, w2.Unheld())
	}
}

// TestGeo_FileMetadataIsGeoParquet checks the "geo" key: version, primary
// column, WKB encoding, the geometry types seen, and the CRS from the
// values' SRID (EPSG:4326 as PROJJSON; null for SRID 0 or mixed SRIDs).
func TestGeo_FileMetadataIsGeoParquet(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, []schema.Column{
		col("pos", "point", "point", false, 0, 0),
		col("area", "geometry", "geometry", false, 0, 0),
		col("mix", "geometry", "geometry", false, 0, 0),
	}, ModeExact)
	srid := func(n byte) string { return string([]byte{n, 0, 0, 0}) }
	line := "\x01\x02\x00\x00\x00\x00\x00\x00\x00"   // LINESTRING EMPTY, little-endian
	polyBE := "\x00\x00\x00\x00\x03\x00\x00\x00\x00" // POLYGON EMPTY, big-endian
	path := writeFile(t, s, DefaultOptions(), [][][]byte{
		bs("\xe6\x10\x00\x00"+wkbPoint12, srid(0)+line, srid(0)+line),
		bs("\xe6\x10\x00\x00"+wkbPoint12, srid(0)+polyBE, "\xe6\x10\x00\x00"+wkbPoint12),
		{nil, nil, nil},
	})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := f.Lookup("geo")
	if !ok {
		t.Fatal("no geo key in the file metadata")
	}
	var m struct {
		Version       string `json:"version"`
		PrimaryColumn string `json:"primary_column"`
		Columns       map[string]struct {
			Encoding      string          `json:"encoding"`
			GeometryTypes []string        `json:"geometry_types"`
			CRS           json.RawMessage `json:"crs"`
			SRID          *int            `json:"acode_srid"`
		} `json:"columns"`
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("geo metadata %s: %v", raw, err)
	}
	if m.Version != "1.1.0" || m.PrimaryColumn != "pos" || len(m.Columns) != 3 {
		t.Fatalf("geo metadata %s", raw)
	}
	pos, area, mix := m.Columns["pos"], m.Columns["area"], m.Columns["mix"]
	if pos.Encoding != "WKB" || strings.Join(pos.GeometryTypes, ",") != "Point" || !strings.Contains(string(pos.CRS), `"code":4326`) || pos.SRID == nil || *pos.SRID != 4326 {
		t.Errorf("pos: %+v", pos)
	}
	if strings.Join(area.GeometryTypes, ",") != "LineString,Polygon" || string(area.CRS) != "null" || area.SRID == nil || *area.SRID != 0 {
		t.Errorf("area: %+v crs %s", area, area.CRS)
	}
	if string(mix.CRS) != "null" || mix.SRID != nil {
		t.Errorf("mix (SRIDs 0 and 4326): crs %s srid %v, want null and none", mix.CRS, mix.SRID)
	}
}

// TestAirbyte_BooleanAndGeometryAsAirbyteWroteThem checks the two places
// where Airbyte's own reading is kept in airbyte mode: TINYINT(1) is true
// when > 0 (its MySQL source's getInt(i) > 0) and a geometry is the
// server's bytes (SRID + WKB) in base64.
func TestAirbyte_BooleanAndGeometryAsAirbyteWroteThem(t *testing.T) {
	t.Parallel()
	s := mustSchema(t, []schema.Column{
		col("ativo", "tinyint", "tinyint(1)", false, 3, 0),
		col("pos", "point", "point", false, 0, 0),
	}, ModeAirbyte)
	path := writeFile(t, s, DefaultOptions(), [][][]byte{bs("2", "\xe6\x10\x00\x00"+wkbPoint12), bs("-1", "\x00")})
	rows := testenv.DuckDB(t).Query(t, "SELECT ativo::VARCHAR AS ativo, pos FROM read_parquet("+testenv.SQLString(path)+")")
	if rows[0]["ativo"] != "true" || rows[1]["ativo"] != "false" || rows[0]["pos"] != "5hAAAAEBAAAAAAAAAAAA8D8AAAAAAAAAQA==" || rows[1]["pos"] != "AA==" {
		t.Errorf("rows %v", rows)
	}
}

package mysql

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/schema"
)

// The read path's decoding, measured and checked against the in-process
// fake server (fakeserver_test.go): no database, so `go test -bench Decode`
// shows a regression of the client alone, anywhere.
//
// go test ./internal/mysql -run '^$' -bench Decode -benchtime 3x

// BenchmarkDecode_ACODERows reads 200k rows of the ACODE daily table
// through ReadRange, the same bytes every time. allocs/row should stay
// about 0: NextRaw hands the values over as views of the read buffer; the
// fallback paths box each one.
func BenchmarkDecode_ACODERows(b *testing.B) {
	const rows = 200_000
	t := diarioTable("bench")
	res := diarioResult(b, t, rows)
	db := startFakeServer(b, res).open(b)
	ctx := context.Background()
	// The callback reads every value's length, as a consumer would.
	var valueBytes int64
	touch := func(row [][]byte) error {
		for _, v := range row {
			valueBytes += int64(len(v))
		}
		return nil
	}
	b.SetBytes(int64(len(res.response)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var read int64
	for b.Loop() {
		n, err := ReadRange(ctx, db, t, Range{}, ReadOptions{}, touch)
		if err != nil {
			b.Fatal(err)
		}
		if n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
		read += n
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(read), "allocs/row")
}

// ReadRange hands over every value exactly as the server sent it: NULL as
// nil, an empty string as empty but not nil, binary bytes as they are, and
// values on both sides of the length-encoding boundaries (250/251 bytes:
// one-byte length or 0xFC; 65535/65536: 0xFC or 0xFD).
func TestDecode_FakeServerRoundTrip(t *testing.T) {
	t.Parallel()
	tb := schema.Table{Namespace: fakeDatabase, Name: "roundtrip", PrimaryKey: []string{"id"}, Columns: []schema.Column{
		{Name: "id", DataType: "bigint", ColumnType: "bigint(20)"},
		{Name: "name", DataType: "varchar", ColumnType: "varchar(40)", Nullable: true, MaxLength: 40, Charset: "utf8mb4"},
		{Name: "note", DataType: "mediumtext", ColumnType: "mediumtext", Nullable: true, MaxLength: 16777215, Charset: "utf8mb4"},
		{Name: "amount", DataType: "decimal", ColumnType: "decimal(15,2)", Nullable: true, Precision: 15, Scale: 2},
		{Name: "day", DataType: "date", ColumnType: "date", Nullable: true},
		{Name: "hash", DataType: "binary", ColumnType: "binary(4)", Nullable: true, MaxLength: 4},
	}}
	v := func(s string) []byte { return []byte(s) }
	want := [][][]byte{
		{v("1"), v("Distribuidora Farmacêutica 17 Ltda"), v(""), v("12.30"), v("2025-08-06"), v("\xde\xad\xbe\xef")},
		{v("2"), nil, nil, nil, nil, nil},
		{v("3"), v(""), longText(250), v("-0.01"), v("0000-00-00"), v("\xfb\xfc\xfe\xff")},
		{v("4"), v("ação 🚀"), longText(251), v("9999999999999.99"), v("2025-01-01"), v("\x00\x00\x00\x00")},
		{v("5"), v("x"), longText(65535), v("0.00"), nil, v("\xfb\x00\x00\x00")},
		{v("9223372036854775807"), nil, longText(65536), nil, v("1000-01-01"), v("")},
	}
	db := startFakeServer(t, tableResult(t, tb, len(want), func(i int, p []byte) []byte {
		for _, val := range want[i] {
			p = appendLenEncValue(p, val)
		}
		return p
	})).open(t)

	var got [][][]byte
	n, err := ReadRange(context.Background(), db, tb, Range{}, ReadOptions{}, func(row [][]byte) error {
		kept := make([][]byte, len(row))
		for i, val := range row {
			if val != nil {
				kept[i] = bytes.Clone(val)
				if kept[i] == nil {
					kept[i] = []byte{}
				}
			}
		}
		got = append(got, kept)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(want)) || len(got) != len(want) {
		t.Fatalf("read %d rows (%d handed over), want %d", n, len(got), len(want))
	}
	for i := range want {
		for j, w := range want[i] {
			if g := got[i][j]; (g == nil) != (w == nil) || !bytes.Equal(g, w) {
				t.Errorf("row %d column %s = %s, want %s", i+1, tb.Columns[j].Name, showValue(g), showValue(w))
			}
		}
	}
}

// ReadRange takes the direct path (NextRaw): the same read with 20k more
// rows allocates nothing more. A lost fast path (the driver's Next, or
// database/sql's Scan) costs a boxed value per column per row; the values
// alone cannot tell, since every path gives the same text.
func TestDecode_FastPathAllocatesNothingPerRow(t *testing.T) {
	const extra = 20_000
	small, large := diarioTable("small"), diarioTable("large")
	db := startFakeServer(t, diarioResult(t, small, 1_000), diarioResult(t, large, 1_000+extra)).open(t)
	allocs := func(tb schema.Table) float64 {
		return testing.AllocsPerRun(3, func() {
			if _, err := ReadRange(context.Background(), db, tb, Range{}, ReadOptions{}, func([][]byte) error { return nil }); err != nil {
				t.Fatal(err)
			}
		})
	}
	perRow := (allocs(large) - allocs(small)) / extra
	if perRow > 0.01 {
		t.Errorf("%.3f allocations per row read, want none: ReadRange no longer reads rows with NextRaw", perRow)
	}
}

// longText is n bytes of a pattern that shifts with n, so that values of
// different lengths differ everywhere.
func longText(n int) []byte {
	const pattern = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = pattern[(i+n)%len(pattern)]
	}
	return b
}

func showValue(v []byte) string {
	switch {
	case v == nil:
		return "NULL"
	case len(v) > 40:
		return fmt.Sprintf("%q... (%d bytes)", v[:40], len(v))
	default:
		return fmt.Sprintf("%q", v)
	}
}

// diarioTable is farmarcas_si_analitico_diario (internal/demo/schema.go)
// as Discover describes it, built by hand: the fake server has no
// information_schema.
func diarioTable(namespace string) schema.Table {
	dec := func(name string, p, s int) schema.Column {
		return schema.Column{Name: name, DataType: "decimal", ColumnType: fmt.Sprintf("decimal(%d,%d)", p, s), Nullable: true, Precision: p, Scale: s}
	}
	str := func(name, dataType string, n int64) schema.Column {
		return schema.Column{Name: name, DataType: dataType, ColumnType: fmt.Sprintf("%s(%d)", dataType, n), Nullable: true, MaxLength: n, Charset: "utf8mb4"}
	}
	typed := func(name, dataType, columnType string) schema.Column {
		return schema.Column{Name: name, DataType: dataType, ColumnType: columnType, Nullable: true}
	}
	return schema.Table{Namespace: namespace, Name: demo.TableDiario, PrimaryKey: []string{"idpk"}, Columns: []schema.Column{
		{Name: "idpk", DataType: "bigint", ColumnType: "bigint(20)"},
		dec("ACODE_Val_Total", 15, 2),
		str("CNPJ", "char", 14),
		str("CNPJ_Fornecedor", "char", 14),
		typed("Data", "date", "date"),
		typed("Data_Processamento", "date", "date"),
		str("EAN", "varchar", 14),
		str("Fornecedor", "varchar", 120),
		typed("NF_Numero", "bigint", "bigint(20)"),
		dec("Qtd_Trib", 15, 4),
		dec("Val_Prod", 15, 2),
		dec("Val_Trib", 15, 2),
		typed("CFOP", "int", "int(11)"),
		typed("NCM", "int", "int(11)"),
		str("CST", "varchar", 3),
		dec("Aliquota_ICMS", 5, 2),
		dec("Valor_ICMS", 15, 2),
		dec("IPI", 15, 2),
		dec("ST", 15, 2),
		dec("STRet", 15, 2),
	}}
}

// diarioResult is n rows of t (a diarioTable) as the fake server sends
// them.
func diarioResult(tb testing.TB, t schema.Table, n int) fakeResult {
	g := newDiarioGen(1)
	return tableResult(tb, t, n, g.appendRow)
}

// diarioGen makes rows with the shapes and lengths of internal/demo's
// (same pools, value ranges and NULL rate), without its check digits: the
// decoder never looks inside a value.
type diarioGen struct {
	r          *rand.Rand
	day        time.Time
	pharmacies []string    // CNPJs
	suppliers  [][2]string // CNPJ, trade name
}

var (
	diarioCFOPs = []int64{5102, 5102, 5102, 5405, 5405, 6102, 6404, 1102, 2102, 5929, 5403, 6403, 5910, 1411}
	diarioNCMs  = []int64{30049099, 30049099, 30042099, 30049069, 30045090, 30039099, 33049990, 33051000, 34011190, 30051090}
	diarioCSTs  = []string{"000", "060", "010", "040", "020", "00", "60", "10", "40", "500"}
	diarioRates = []int64{0, 7, 12, 17, 18, 18, 18, 19, 20}
	supplierA   = []string{"Distribuidora", "Drogaria", "Comercial", "Atacadista", "Profarma", "Santa Cruz", "Panpharma", "Servimed"}
	supplierB   = []string{"de Medicamentos", "Farmacêutica", "Distribuição", "Nordeste", "Sul", "Centro-Oeste", "Paulista", "Mineira"}
	supplierC   = []string{"Ltda", "S.A.", "Eireli", "Ltda ME"}
)

func newDiarioGen(seed uint64) *diarioGen {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	g := &diarioGen{r: r, day: time.Date(2025, 8, 7, 0, 0, 0, 0, time.UTC)}
	cnpj := func() string { return fmt.Sprintf("%014d", r.Int64N(1e14)) }
	for range 5000 {
		g.pharmacies = append(g.pharmacies, cnpj())
	}
	for i := range 300 {
		name := strings.Join([]string{oneOf(r, supplierA), oneOf(r, supplierB), strconv.Itoa(i + 1), oneOf(r, supplierC)}, " ")
		g.suppliers = append(g.suppliers, [2]string{cnpj(), name})
	}
	return g
}

func oneOf[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// appendRow appends row i's values, length-encoded, as demo computes them:
// ICMS from the rate, ST only for the CSTs that carry it, STRet NULL one
// time in fifty.
func (g *diarioGen) appendRow(i int, p []byte) []byte {
	r := g.r
	sup := oneOf(r, g.suppliers)
	data := g.day.AddDate(0, 0, -1-r.IntN(7))
	proc := data.AddDate(0, 0, r.IntN(2))
	qtd := int64(1+r.IntN(24)) * 10_000 // 4 decimals
	if r.IntN(10) == 0 {
		qtd = 1 + r.Int64N(100_000)
	}
	valProd := max(1, (199+r.Int64N(25_000))*qtd/10_000) // cents
	cst, rate := oneOf(r, diarioCSTs), oneOf(r, diarioRates)
	var ipi, st int64
	if r.IntN(7) == 0 {
		ipi = valProd * int64(r.IntN(10)) / 100
	}
	if strings.HasSuffix(cst, "60") || strings.HasSuffix(cst, "10") {
		st = valProd * int64(5+r.IntN(20)) / 100
	}
	var ean [13]byte
	p = lenEncInt(p, int64(i+1))
	p = lenEncFixed(p, valProd+ipi+st, 2)
	p = appendLenEncString(p, oneOf(r, g.pharmacies))
	p = appendLenEncString(p, sup[0])
	p = lenEncDate(p, data)
	p = lenEncDate(p, proc)
	p = appendLenEncString(p, appendPadded(append(ean[:0], "789"...), r.Int64N(1e10), 10))
	p = appendLenEncString(p, sup[1])
	p = lenEncInt(p, 1+r.Int64N(999_999))
	p = lenEncFixed(p, qtd, 4)
	p = lenEncFixed(p, valProd, 2)
	p = lenEncFixed(p, valProd, 2)
	p = lenEncInt(p, oneOf(r, diarioCFOPs))
	p = lenEncInt(p, oneOf(r, diarioNCMs))
	p = appendLenEncString(p, cst)
	p = lenEncFixed(p, rate*100, 2)
	p = lenEncFixed(p, (valProd*rate+50)/100, 2)
	p = lenEncFixed(p, ipi, 2)
	p = lenEncFixed(p, st, 2)
	if r.IntN(50) == 0 {
		return appendLenEncValue(p, nil)
	}
	return lenEncFixed(p, st/2, 2)
}

func lenEncInt(p []byte, v int64) []byte {
	var tmp [20]byte
	return appendLenEncString(p, strconv.AppendInt(tmp[:0], v, 10))
}

// lenEncFixed appends v / 10^scale with exactly scale decimals, as MySQL
// writes a DECIMAL.
func lenEncFixed(p []byte, v int64, scale int) []byte {
	var tmp [24]byte
	pow := int64(1)
	for range scale {
		pow *= 10
	}
	b := strconv.AppendInt(tmp[:0], v/pow, 10)
	if scale > 0 {
		b = appendPadded(append(b, '.'), v%pow, scale)
	}
	return appendLenEncString(p, b)
}

func lenEncDate(p []byte, t time.Time) []byte {
	var tmp [10]byte
	return appendLenEncString(p, t.AppendFormat(tmp[:0], time.DateOnly))
}

// appendPadded appends v in decimal, zero-padded to width.
func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for range width - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

package stats

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/acode-dev/acode/internal/schema"
)

// diario20Table is the demo's 20-column farmarcas_si_analitico_diario.
func diario20Table() schema.Table {
	dec := func(name string, p, s int) schema.Column {
		return schema.Column{Name: name, DataType: "decimal", ColumnType: fmt.Sprintf("decimal(%d,%d)", p, s), Precision: p, Scale: s, Nullable: true}
	}
	col := func(name, dataType, columnType string) schema.Column {
		return schema.Column{Name: name, DataType: dataType, ColumnType: columnType, Nullable: true}
	}
	return schema.Table{Name: "farmarcas_si_analitico_diario", PrimaryKey: []string{"idpk"}, Columns: []schema.Column{
		col("idpk", "bigint", "bigint(20)"), dec("ACODE_Val_Total", 15, 2), col("CNPJ", "char", "char(14)"),
		col("CNPJ_Fornecedor", "char", "char(14)"), col("Data", "date", "date"), col("Data_Processamento", "date", "date"),
		col("EAN", "varchar", "varchar(14)"), col("Fornecedor", "varchar", "varchar(120)"), col("NF_Numero", "bigint", "bigint(20)"),
		dec("Qtd_Trib", 15, 4), dec("Val_Prod", 15, 2), dec("Val_Trib", 15, 2), col("CFOP", "int", "int(11)"),
		col("NCM", "int", "int(11)"), col("CST", "varchar", "varchar(3)"), dec("Aliquota_ICMS", 5, 2),
		dec("Valor_ICMS", 15, 2), dec("IPI", 15, 2), dec("ST", 15, 2), dec("STRet", 15, 2),
	}}
}

// diario20Spec is what quality.SpecFor derives from the example project's
// rules for the table synced alone (the benchmark's job): without its
// produtos stream in the job, the EAN reference keeps no key set.
func diario20Spec() Spec {
	return Spec{
		Summarize: []string{"ACODE_Val_Total", "Qtd_Trib", "Val_Prod", "Data"},
		Distinct:  []string{"CNPJ", "EAN"},
		Above:     map[string][]string{"ACODE_Val_Total": {"100000"}}, Below: map[string][]string{"ACODE_Val_Total": {"0"}},
		Future: []string{"Data"}, FutureAfter: "2025-08-08",
		DailyTotals: []DailyTotalSpec{{Value: "ACODE_Val_Total", Date: "Data"}},
	}
}

const (
	benchCNPJs = 5000   // the demo's pharmacies
	benchEANs  = 50_000 // the demo's produtos at 5M rows
)

// diario20Row is a demo-like row: the sync's value shapes and cardinalities.
func diario20Row(r *rand.Rand, i int, ean int) [][]byte {
	fixed := func(v int64, scale int) string {
		s := fmt.Sprintf("%0*d", scale+1, v)
		return s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	qtd := int64(1+r.IntN(24)) * 10_000
	valProd := max(1, (199+r.Int64N(25_000))*qtd/10_000)
	stRet := fixed(valProd/20, 2)
	if r.IntN(50) == 0 {
		stRet = "NULL"
	}
	return row(strconv.Itoa(i+1), fixed(valProd, 2), fmt.Sprintf("%014d", r.IntN(benchCNPJs)*7919), "12345678000199",
		fmt.Sprintf("2025-08-%02d", 1+r.IntN(7)), fmt.Sprintf("2025-08-%02d", 1+r.IntN(8)), fmt.Sprintf("789%010d", ean),
		"DISTRIBUIDORA FARMA 12 LTDA", strconv.Itoa(1+r.IntN(999_999)), fixed(qtd, 4), fixed(valProd, 2), fixed(valProd, 2),
		"5102", "30049099", "060", "18.00", fixed(valProd*18/100, 2), "0.00", fixed(valProd/10, 2), stRet)
}

// newDiario20Worker returns a Worker that has seen every EAN and CNPJ
// once, so its key table and sketches are as large as in a 5M-row sync.
func newDiario20Worker(b *testing.B) *Worker {
	g, err := NewGatherer(diario20Table(), diario20Spec())
	if err != nil {
		b.Fatal(err)
	}
	w := g.NewWorker()
	r := rand.New(rand.NewPCG(5, 6))
	for i := range benchEANs {
		w.Observe(diario20Row(r, i, i))
	}
	return w
}

// packedRow is a row as the driver holds it: the values back to back in
// one packet, each row read into the same buffer and header slice.
type packedRow struct {
	data []byte
	lens []int // -1 for NULL
}

func diario20Rows(n int) []packedRow {
	r := rand.New(rand.NewPCG(1, 2))
	rows := make([]packedRow, n)
	for i := range rows {
		var p packedRow
		for _, v := range diario20Row(r, i, r.IntN(benchEANs)) {
			if v == nil {
				p.lens = append(p.lens, -1)
				continue
			}
			p.data = append(p.data, v...)
			p.lens = append(p.lens, len(v))
		}
		rows[i] = p
	}
	return rows
}

// rowReader reads packed rows into one buffer, as the driver's NextRaw
// does: what Observe reads of a row was just written, so is in cache.
type rowReader struct {
	buf []byte
	row [][]byte
}

func (rr *rowReader) read(p packedRow) [][]byte {
	rr.buf = append(rr.buf[:0], p.data...)
	rr.row = rr.row[:0]
	off := 0
	for _, n := range p.lens {
		if n < 0 {
			rr.row = append(rr.row, nil)
			continue
		}
		rr.row = append(rr.row, rr.buf[off:off+n:off+n])
		off += n
	}
	return rr.row
}

// cachePressure stands for the sync's work between two rows (parquet
// encoder buffers, driver packets): it writes a window of a buffer larger
// than L2, so the Worker's tables are no longer in L1/L2 at the next row.
type cachePressure struct {
	buf []byte
	pos int
}

const (
	pressureBytes  = 8 << 20
	pressurePerRow = 16 << 10
)

func (p *cachePressure) touch() {
	if p.buf == nil {
		p.buf = make([]byte, pressureBytes)
	}
	w := p.buf[p.pos : p.pos+pressurePerRow]
	for i := 0; i < len(w); i += 64 {
		w[i]++
	}
	p.pos = (p.pos + pressurePerRow) % len(p.buf)
}

// BenchmarkObserveDiario20 is Observe on the sync's table and rules, each
// row read into a reused buffer first as in the sync, with nothing else
// evicting the Worker's tables: the lower bound. Subtract
// BenchmarkObserveDiario20ReadOnly for Observe's own share.
func BenchmarkObserveDiario20(b *testing.B) {
	benchmarkDiario20(b, true, false)
}

// BenchmarkObserveDiario20Pressure is Observe as the sync sees it: other
// work evicts the caches between rows. Subtract
// BenchmarkObserveDiario20PressureOnly for Observe's own share.
func BenchmarkObserveDiario20Pressure(b *testing.B) {
	benchmarkDiario20(b, true, true)
}

// BenchmarkObserveDiario20ReadOnly is the cost of reading the rows.
func BenchmarkObserveDiario20ReadOnly(b *testing.B) {
	benchmarkDiario20(b, false, false)
}

// BenchmarkObserveDiario20PressureOnly is the cost of reading the rows
// and of the simulated other work.
func BenchmarkObserveDiario20PressureOnly(b *testing.B) {
	benchmarkDiario20(b, false, true)
}

func benchmarkDiario20(b *testing.B, observe, pressure bool) {
	w, rows := newDiario20Worker(b), diario20Rows(8192)
	var (
		rr rowReader
		p  cachePressure
	)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if pressure {
			p.touch()
		}
		row := rr.read(rows[i%len(rows)])
		if observe {
			w.Observe(row)
		}
	}
}

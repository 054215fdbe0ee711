package parquet

import (
	"strconv"

	"github.com/acode-dev/acode/internal/schema"
)

// acodeTable has the shape of farmarcas_si_analitico_diario: a BIGINT key,
// money columns, CNPJs, dates, codes and descriptions.
func acodeTable() []schema.Column {
	dec := func(name string, p, s int) schema.Column {
		return col(name, "decimal", "decimal("+strconv.Itoa(p)+","+strconv.Itoa(s)+")", false, p, s)
	}
	vc := func(name string, n int) schema.Column {
		c := col(name, "varchar", "varchar("+strconv.Itoa(n)+")", false, 0, 0)
		c.MaxLength = int64(n)
		return c
	}
	return []schema.Column{
		col("id", "bigint", "bigint(20)", false, 19, 0),
		col("cnpj_emitente", "char", "char(14)", false, 0, 0),
		col("cnpj_destinatario", "char", "char(14)", false, 0, 0),
		col("dt_emissao", "date", "date", false, 0, 0),
		col("dt_entrada", "date", "date", false, 0, 0),
		vc("ean", 13),
		vc("descricao", 120),
		vc("cfop", 4),
		col("quantidade", "int", "int(11)", false, 10, 0),
		col("ncm", "int", "int(11)", false, 10, 0),
		col("cst", "int", "int(11)", false, 10, 0),
		dec("vl_unitario", 15, 2),
		dec("vl_total", 15, 2),
		dec("vl_desconto", 15, 2),
		dec("vl_icms", 15, 2),
		dec("vl_icms_st", 15, 2),
		dec("vl_ipi", 15, 2),
		dec("vl_pis", 15, 2),
		dec("vl_cofins", 15, 2),
		dec("aliq_icms", 5, 2),
	}
}

// rowGen fills one reusable row of acodeTable with plausible values, the way
// the MySQL reader hands rows over (buffers reused between rows).
type rowGen struct {
	i   int64
	buf []byte
	row [][]byte
}

var descricoes = []string{
	"DIPIRONA SODICA 500MG 10 COMPRIMIDOS", "PARACETAMOL 750MG 20 COMPRIMIDOS",
	"AMOXICILINA 500MG 21 CAPSULAS", "PROTETOR SOLAR FPS 50 120ML",
	"SHAMPOO ANTICASPA 200ML", "VITAMINA C 1G 10 COMPRIMIDOS EFERVESCENTES",
}

func (g *rowGen) next() [][]byte {
	g.i++
	i := g.i
	b := g.buf[:0]
	var offs [21]int
	k := 0
	put := func(f func([]byte) []byte) {
		b = f(b)
		k++
		offs[k] = len(b)
	}
	money := func(v int64) func([]byte) []byte {
		return func(b []byte) []byte {
			b = strconv.AppendInt(b, v/100, 10)
			b = append(b, '.', byte('0'+v%100/10), byte('0'+v%10))
			return b
		}
	}
	put(func(b []byte) []byte { return strconv.AppendInt(b, i, 10) })
	put(func(b []byte) []byte { return append(b, "1234567800"[:10]...) })
	offs[k] = len(b)
	b = strconv.AppendInt(b, 1000+i%9000, 10)
	offs[k] = len(b)
	put(func(b []byte) []byte { return append(b, "33000167000101"...) })
	put(func(b []byte) []byte { return append(b, "2025-08-0"...) })
	b = append(b, byte('1'+i%7))
	offs[k] = len(b)
	put(func(b []byte) []byte { return append(b, "2025-08-07"...) })
	put(func(b []byte) []byte { return strconv.AppendInt(append(b, "7891"...), 100000000+i%899999999, 10) })
	put(func(b []byte) []byte { return append(b, descricoes[i%int64(len(descricoes))]...) })
	put(func(b []byte) []byte { return append(b, "5102"...) })
	put(func(b []byte) []byte { return strconv.AppendInt(b, 1+i%12, 10) })
	put(func(b []byte) []byte { return strconv.AppendInt(b, 30049099, 10) })
	put(func(b []byte) []byte { return strconv.AppendInt(b, 60, 10) })
	for m := int64(0); m < 8; m++ {
		put(money((i*7919 + m*104729) % 10000000))
	}
	put(money(1800))
	if cap(g.row) < 20 {
		g.row = make([][]byte, 20)
	}
	for c := 0; c < 20; c++ {
		g.row[c] = b[offs[c]:offs[c+1]]
	}
	g.buf = b
	return g.row
}

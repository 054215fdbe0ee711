package demo

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var anchor = time.Date(2025, 8, 7, 15, 30, 0, 0, time.UTC)

func fill(t *testing.T, opts Options) (*sql.DB, string, Counts) {
	t.Helper()
	m := testenv.SharedMariaDB(t)
	name := m.NewDatabase(t)
	db := m.Root(t)
	if err := CreateSchema(context.Background(), db, name); err != nil {
		t.Fatal(err)
	}
	c, err := Fill(context.Background(), db, name, opts)
	if err != nil {
		t.Fatal(err)
	}
	return db, name, c
}

func queryInt(t *testing.T, db *sql.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func eachString(t *testing.T, db *sql.DB, q string, fn func(string)) {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		fn(s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestFill_CountsAndRealisticValues(t *testing.T) {
	t.Parallel()
	db, name, c := fill(t, Options{Rows: 50_000, Days: 5, Now: anchor, Seed: 7})
	if c != (Counts{Diario: 50_000, Produtos: 1000, Complemento: 30_000}) {
		t.Fatalf("counts %+v", c)
	}
	q := func(s string) string { return "SELECT " + s }
	d, p, x := "`"+name+"`."+TableDiario, "`"+name+"`."+TableProdutos, "`"+name+"`."+TableComplemento
	for table, want := range map[string]int64{d: 50_000, p: 1000, x: 30_000} {
		if n := queryInt(t, db, q("COUNT(*) FROM "+table)); n != want {
			t.Errorf("%s has %d rows, want %d", table, n, want)
		}
	}
	checks := map[string]string{
		"diario EANs missing from produtos":     "COUNT(*) FROM " + d + " a LEFT JOIN " + p + " b ON a.EAN = b.EAN WHERE b.idpk IS NULL",
		"complemento rows without a diario row": "COUNT(*) FROM " + x + " c LEFT JOIN " + d + " a ON a.idpk = c.idpk_analitico WHERE a.idpk IS NULL",
		"ICMS not rate x value":                 "COUNT(*) FROM " + d + " WHERE Valor_ICMS <> ROUND(Val_Prod * Aliquota_ICMS / 100, 2)",
		"dates outside the last 5 days":         "COUNT(*) FROM " + d + " WHERE Data NOT BETWEEN '2025-08-02' AND '2025-08-06' OR Data_Processamento < Data OR Data_Processamento > '2025-08-07'",
		"unknown aliquota":                      "COUNT(*) FROM " + d + " WHERE Aliquota_ICMS NOT IN (0,7,12,17,18,19,20)",
		"bad NCM or CFOP":                       "COUNT(*) FROM " + d + " WHERE NCM NOT BETWEEN 10000000 AND 99999999 OR CFOP NOT BETWEEN 1000 AND 7999",
		"total below product value":             "COUNT(*) FROM " + d + " WHERE ACODE_Val_Total < Val_Prod OR Val_Prod <= 0",
		"authorized before emitted":             "COUNT(*) FROM " + x + " WHERE Data_Autorizacao < Data_Emissao",
		"hash missing":                          "COUNT(*) FROM " + x + " WHERE LENGTH(XML_Hash) <> 32",
	}
	for what, sqlText := range checks {
		if n := queryInt(t, db, q(sqlText)); n != 0 {
			t.Errorf("%s: %d rows", what, n)
		}
	}
	if n := queryInt(t, db, q("COUNT(DISTINCT CNPJ) FROM "+d)); n < 4000 {
		t.Errorf("only %d distinct pharmacies", n)
	}
	if n := queryInt(t, db, q("COUNT(*) FROM "+x+" WHERE Situacao = 'denegada' AND Data_Autorizacao IS NULL")); n == 0 {
		t.Errorf("no denied NF-e without authorization time")
	}
	invalid := 0
	eachString(t, db, q("DISTINCT CNPJ FROM "+d+" UNION SELECT DISTINCT CNPJ_Fornecedor FROM "+d), func(s string) {
		if !ValidCNPJ(s) {
			invalid++
		}
	})
	eachString(t, db, q("EAN FROM "+p), func(s string) {
		if !ValidEAN13(s) {
			invalid++
		}
	})
	eachString(t, db, q("Chave_NFe FROM "+x), func(s string) {
		if !ValidChaveNFe(s) {
			invalid++
		}
	})
	if invalid != 0 {
		t.Fatalf("%d invalid CNPJ/EAN/NF-e keys", invalid)
	}
}

func checksums(t *testing.T, db *sql.DB, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tb := range Tables() {
		var table string
		var sum sql.NullInt64
		if err := db.QueryRow("CHECKSUM TABLE `"+name+"`."+tb).Scan(&table, &sum); err != nil {
			t.Fatal(err)
		}
		out[tb] = sum.Int64
	}
	return out
}

func TestFill_DeterministicPerSeed(t *testing.T) {
	t.Parallel()
	opts := Options{Rows: 30_000, Now: anchor, Seed: 42}
	db, a, _ := fill(t, opts)
	_, b, _ := fill(t, opts)
	opts.Seed = 43
	_, c, _ := fill(t, opts)
	sa, sb, sc := checksums(t, db, a), checksums(t, db, b), checksums(t, db, c)
	for _, tb := range Tables() {
		if sa[tb] != sb[tb] {
			t.Errorf("%s differs between two fills with the same seed", tb)
		}
		if sa[tb] == sc[tb] {
			t.Errorf("%s is identical for seeds 42 and 43", tb)
		}
	}
}

// BenchmarkFill1M loads 1M diario rows (1.61M rows in all):
// go test ./internal/demo -run '^$' -bench Fill1M -benchtime 1x
func BenchmarkFill1M(b *testing.B) {
	m := testenv.StartMariaDB(b, testenv.MariaDBOptions{Args: []string{"--innodb-buffer-pool-size=1G", "--innodb-log-file-size=512M"}})
	db := m.Root(b)
	for b.Loop() {
		start := time.Now()
		if err := CreateSchema(context.Background(), db, "bench"); err != nil {
			b.Fatal(err)
		}
		c, err := Fill(context.Background(), db, "bench", Options{Rows: 1_000_000, Now: anchor, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(start).Seconds()
		b.ReportMetric(float64(c.Diario)/el, "diario_rows/s")
		b.ReportMetric(float64(c.Diario+c.Produtos+c.Complemento)/el, "rows/s")
	}
}

package mysql

import (
	"context"
	"database/sql"
	"slices"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
)

// TestReadRange_DirectAndFallbackPathsGiveTheSameText reads a table of
// every numeric and text shape through the direct driver path (the pool
// Open builds) and through the database/sql fallback (a pool without
// client-side interpolation, where the driver declines the direct query):
// both must hand over byte-identical rows, NULLs included.
func TestReadRange_DirectAndFallbackPathsGiveTheSameText(t *testing.T) {
	t.Parallel()
	m, db, name := openShared(t)
	mustExec(t, db,
		`CREATE TABLE t (id BIGINT PRIMARY KEY, ti TINYINT, u BIGINT UNSIGNED, f FLOAT, d DOUBLE,
			dec2 DECIMAL(15,2), s VARCHAR(20), y YEAR, dt DATETIME(3))`,
		`INSERT INTO t VALUES (1, -128, 18446744073709551615, 1.5, 0.1, -12.30, 'olá', 2024, '2024-01-02 03:04:05.678'),
			(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
			(3, 127, 0, -3.4e38, 1.7976931348623157e308, 0.00, '', 1901, '1000-01-01 00:00:00.000')`)
	tb := discoverOne(t, db, name, "t")
	rs, err := PlanRanges(context.Background(), db, tb, 1)
	if err != nil || len(rs) < 2 {
		t.Fatalf("plan: %d ranges, %v; want several, so the reads take arguments", len(rs), err)
	}
	direct := readAll(t, db, tb, rs)

	cfg := gomysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", m.Addr(), name
	cfg.InterpolateParams = false
	connector, err := gomysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain := sql.OpenDB(connector)
	defer plain.Close()
	fallback := readAll(t, plain, tb, rs)
	if !slices.Equal(direct, fallback) || len(direct) != 3 {
		t.Errorf("direct path:\n%v\nfallback path:\n%v", direct, fallback)
	}
}

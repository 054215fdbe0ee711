package mysql

import (
	"context"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/testenv"
)

// BenchmarkReadRange reads 1M demo rows through ReadRange and, in the same
// run, with the mariadb client as the speed floor:
// go test ./internal/mysql -run '^$' -bench ReadRange -benchtime 1x
func BenchmarkReadRange(b *testing.B) {
	m := testenv.StartMariaDB(b, testenv.MariaDBOptions{Args: []string{"--innodb-buffer-pool-size=1G"}})
	root := m.Root(b)
	ctx := context.Background()
	if err := demo.CreateSchema(ctx, root, "bench"); err != nil {
		b.Fatal(err)
	}
	if _, err := demo.Fill(ctx, root, "bench", demo.Options{Rows: 1_000_000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	db, err := Open(ctx, rootConfig(m, "bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tb, err := Discover(ctx, db, "bench", []string{demo.TableDiario})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		var bytes int64
		n, err := ReadRange(ctx, db, tb[0], Range{}, ReadOptions{}, func(row [][]byte) error {
			for _, v := range row {
				bytes += int64(len(v))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rows/s")

		start = time.Now()
		cli := exec.Command("mariadb", "-h127.0.0.1", "-P"+strconv.Itoa(m.Port), "-uroot", "--quick", "-N",
			"-e", "SELECT * FROM bench."+demo.TableDiario)
		if err := cli.Run(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "client_rows/s")
	}
}

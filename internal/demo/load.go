package demo

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/acode-dev/acode/internal/mysqldriver"
)

// batchRows is the size of one LOAD DATA statement (and one transaction).
const batchRows = 20_000

// batch is one LOAD DATA of rows [from, to) of a table.
type batch struct {
	table    int // index into loaders
	index    int64
	from, to int64
}

// loader describes how one table's rows are generated and loaded.
type loader struct {
	name    string
	columns string
	row     func(w *world, b []byte, r *rand.Rand, i int64) []byte
}

var loaders = []loader{
	{TableProdutos, produtosColumns, (*world).appendProdutoRow},
	{TableDiario, diarioColumns, (*world).appendDiarioRow},
	{TableComplemento, complementoColumns, (*world).appendComplementoRow},
}

var handlerSeq atomic.Int64

// Fill generates the three tables' rows in Go and streams them into
// database (created by CreateSchema) with LOAD DATA LOCAL INFILE over
// several connections. Ids are explicit, so the same Seed and Now give the
// same rows whatever the order batches land in. The server must allow
// local_infile.
func Fill(ctx context.Context, db *sql.DB, database string, opts Options) (Counts, error) {
	w := newWorld(opts)
	sizes := []int64{w.counts.Produtos, w.counts.Diario, w.counts.Complemento}
	var batches []batch
	for t, n := range sizes {
		for i := int64(0); i*batchRows < n; i++ {
			batches = append(batches, batch{table: t, index: i, from: i * batchRows, to: min(n, (i+1)*batchRows)})
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	queue := make(chan batch)
	var wg sync.WaitGroup
	workers := min(4, max(2, runtime.NumCPU()))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.loadWorker(ctx, db, database, queue); err != nil {
				cancel(err)
			}
		}()
	}
feed:
	for _, b := range batches {
		select {
		case queue <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(queue)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return Counts{}, err
	}
	return w.counts, nil
}

// loadWorker loads batches from queue on one dedicated connection until the
// queue closes or ctx ends.
func (w *world) loadWorker(ctx context.Context, db *sql.DB, database string, queue <-chan batch) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("demo fill: connect: %w", err)
	}
	defer conn.Close()
	// UTC so DATETIME/TIMESTAMP text means the same instant everywhere.
	for _, s := range []string{"SET SESSION time_zone = '+00:00'", "SET SESSION unique_checks = 0", "SET SESSION foreign_key_checks = 0"} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("demo fill: %s: %w", s, err)
		}
	}
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return nil
		case b, ok := <-queue:
			if !ok {
				return nil
			}
			buf = w.generate(buf[:0], b)
			if err := loadData(ctx, conn, database, loaders[b.table], buf, b.to-b.from); err != nil {
				return err
			}
		}
	}
}

// generate appends a batch's rows to buf.
func (w *world) generate(buf []byte, b batch) []byte {
	r := w.batchRand(b.table, b.index)
	l := loaders[b.table]
	for i := b.from; i < b.to; i++ {
		buf = l.row(w, buf, r, i)
	}
	return buf
}

func loadData(ctx context.Context, conn *sql.Conn, database string, l loader, data []byte, want int64) error {
	name := "acode-demo-" + strconv.FormatInt(handlerSeq.Add(1), 10)
	mysqldriver.RegisterReaderHandler(name, func() io.Reader { return bytes.NewReader(data) })
	defer mysqldriver.DeregisterReaderHandler(name)
	q := fmt.Sprintf("LOAD DATA LOCAL INFILE 'Reader::%s' INTO TABLE %s.%s CHARACTER SET utf8mb4 "+
		"FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' %s", name, quoteIdent(database), quoteIdent(l.name), l.columns)
	res, err := conn.ExecContext(ctx, q)
	if err != nil {
		return fmt.Errorf("demo fill %s: load data: %w", l.name, err)
	}
	if n, err := res.RowsAffected(); err == nil && n != want {
		return fmt.Errorf("demo fill %s: loaded %d rows of %d", l.name, n, want)
	}
	return nil
}

package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// copyTables is every table of the schema but schema_migrations (the
// destination is migrated by Open), parents before the tables that refer
// to them. A test checks that it names every table, so a new migration's
// table cannot be forgotten by `acode state copy`.
var copyTables = []string{
	"jobs", "attempts", "stream_results", "parts", "plans", "range_tasks", "cursors", "commits",
	"health_results", "failover_state", "failover_transitions",
	"alerts", "alert_conditions", "schedule_fires", "quality_reports", "replicas",
	"table_sizes",
}

// identityTables are the tables whose id the engine numbers; after a copy
// the destination's counter must continue after the copied ids.
var identityTables = []string{"jobs", "health_results", "failover_transitions", "alerts"}

// ErrNotEmpty is returned by Copy when the destination already holds data:
// merging two stores would mix two histories under the same job ids.
var ErrNotEmpty = errors.New("destination state store is not empty")

// ErrJobRunning is returned by Copy while a job of the source heartbeats:
// its rows would be copied half-written.
var ErrJobRunning = errors.New("a job is running on the source store")

// TableCount is how many rows Copy moved into one table.
type TableCount struct {
	Table string
	Rows  int64
}

// Copy moves everything in from (jobs, attempts, parts, plans, cursors,
// committed partitions, health history, failover state, alerts, schedules,
// quality reports) into the empty store to, keeping every id, so the job
// ids Airflow holds stay valid. It runs in one transaction of to: a failure
// leaves to empty. Both stores must be at the same schema version (Open
// brings both to this build's). Run it with every acode process stopped:
// a job written to from during the copy would be missing from to.
func Copy(ctx context.Context, from, to *Store) ([]TableCount, error) {
	fv, err := from.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy state: source: %w", err)
	}
	tv, err := to.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy state: destination: %w", err)
	}
	if fv != tv {
		return nil, fmt.Errorf("copy state: source is at schema version %d, destination at %d; run the same acode on both", fv, tv)
	}
	if err := requireIdle(ctx, from); err != nil {
		return nil, fmt.Errorf("copy state: %w", err)
	}
	var counts []TableCount
	err = inTx(ctx, to.db, func(tx *txn) error {
		if err := requireEmpty(ctx, tx); err != nil {
			return err
		}
		for _, table := range copyTables {
			n, err := copyTable(ctx, from.db, tx, table)
			if err != nil {
				return fmt.Errorf("table %s: %w", table, err)
			}
			counts = append(counts, TableCount{Table: table, Rows: n})
		}
		if err := relinkChains(ctx, from.db, tx); err != nil {
			return err
		}
		for _, table := range identityTables {
			if q := to.db.d.resetIdentity(table); q != "" {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("table %s: continue its ids after the copied ones: %w", table, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copy state from %s to %s: %w", from.Path(), to.Path(), err)
	}
	return counts, nil
}

// requireIdle refuses a source with a job still heartbeating: its
// process would go on writing to the source after the copy.
func requireIdle(ctx context.Context, from *Store) error {
	jobs, err := from.ListJobs(ctx, JobFilter{})
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	for _, j := range jobs {
		if !j.Status.Terminal() && from.clock().Sub(j.HeartbeatAt) < from.lease {
			return fmt.Errorf("%w: job %d of %s is %s (owner %s): stop every acode process first", ErrJobRunning, j.ID, j.Connection, j.Status, j.Owner)
		}
	}
	return nil
}

func requireEmpty(ctx context.Context, tx *txn) error {
	for _, table := range copyTables {
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			return fmt.Errorf("table %s: %w", table, err)
		}
		if n > 0 {
			return fmt.Errorf("%w: table %s has %d rows; copy into a new database", ErrNotEmpty, table, n)
		}
	}
	return nil
}

// copyTable copies every row and column of table, in the source's id
// order. jobs.continued_by refers to later jobs, so it is copied empty and
// set by relinkChains once every job exists.
func copyTable(ctx context.Context, src *handle, tx *txn, table string) (int64, error) {
	rows, err := src.QueryContext(ctx, `SELECT * FROM `+table+` ORDER BY 1`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")
	insert := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES (` + marks + `)`
	var n int64
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, c := range cols {
			if table == "jobs" && c == "continued_by" {
				vals[i] = nil
			}
		}
		if _, err := tx.ExecContext(ctx, insert, vals...); err != nil {
			return n, fmt.Errorf("row %d: %w", n+1, err)
		}
		n++
	}
	return n, rows.Err()
}

// relinkChains sets jobs.continued_by as in the source.
func relinkChains(ctx context.Context, src *handle, tx *txn) error {
	rows, err := src.QueryContext(ctx, `SELECT id, continued_by FROM jobs WHERE continued_by IS NOT NULL ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read job chains: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, next int64
		if err := rows.Scan(&id, &next); err != nil {
			return fmt.Errorf("read job chains: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET continued_by = ? WHERE id = ?`, next, id); err != nil {
			return fmt.Errorf("link job %d to job %d: %w", id, next, err)
		}
	}
	return rows.Err()
}

// CopyToFile copies from into a new SQLite file at path (which must not
// exist), for a backup of the state store beside the data: a store rebuilt
// from it continues with the same jobs, cursors, committed partitions and
// failover state. It refuses, like Copy, while a job is running. The file
// is closed (and its write-ahead log folded in) when it returns; on an
// error nothing is left at path.
func CopyToFile(ctx context.Context, from *Store, path string) (err error) {
	if _, serr := os.Stat(path); serr == nil {
		return fmt.Errorf("copy state to %s: the file exists", path)
	}
	defer func() {
		if err != nil {
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				_ = os.Remove(p)
			}
		}
	}()
	to, err := Open(ctx, path)
	if err != nil {
		return fmt.Errorf("copy state to %s: %w", path, err)
	}
	if _, err := Copy(ctx, from, to); err != nil {
		to.Close()
		return err
	}
	// Fold the write-ahead log into the file: the file alone is uploaded.
	if _, err := to.db.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		to.Close()
		return fmt.Errorf("copy state to %s: checkpoint: %w", path, err)
	}
	if err := to.Close(); err != nil {
		return fmt.Errorf("copy state to %s: close: %w", path, err)
	}
	return nil
}

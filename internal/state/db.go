package state

import (
	"context"
	"database/sql"
	"fmt"
)

// handle is the store's database: a *sql.DB whose queries are rewritten
// for the engine by its dialect, so every query is written once.
type handle struct {
	db *sql.DB
	d  *dialect
}

func (h *handle) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return h.db.ExecContext(ctx, h.d.rebind(q), args...)
}

func (h *handle) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return h.db.QueryContext(ctx, h.d.rebind(q), args...)
}

func (h *handle) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return h.db.QueryRowContext(ctx, h.d.rebind(q), args...)
}

// txn is one write transaction of a handle.
type txn struct {
	tx *sql.Tx
	d  *dialect
}

func (t *txn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.d.rebind(q), args...)
}

func (t *txn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.d.rebind(q), args...)
}

func (t *txn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.d.rebind(q), args...)
}

// inTx runs fn in one write transaction, committing when fn returns nil and
// rolling back otherwise. On SQLite it is BEGIN IMMEDIATE (the DSN's
// _txlock); on PostgreSQL it first takes the store's advisory write lock.
// Either way write transactions run one at a time across processes.
func inTx(ctx context.Context, h *handle, fn func(*txn) error) error {
	tx, err := beginLocked(ctx, h)
	if err != nil {
		return err
	}
	t := &txn{tx: tx, d: h.d}
	if err := fn(t); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// beginLocked begins a write transaction that holds the write lock. Where
// the dialect bounds a lock wait (lockWait), a wait that runs out is
// rolled back and asked again, so this process is in the server's queue
// only while it is alive to ask.
func beginLocked(ctx context.Context, h *handle) (*sql.Tx, error) {
	for {
		tx, err := h.db.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("begin: %w", err)
		}
		if h.d.lockWrites == "" {
			return tx, nil
		}
		err = lockWrites(ctx, tx, h.d)
		if err == nil {
			return tx, nil
		}
		_ = tx.Rollback()
		if h.d.lockWaitOver == nil || !h.d.lockWaitOver(err) || ctx.Err() != nil {
			return nil, fmt.Errorf("take the write lock: %w", err)
		}
	}
}

// lockWrites runs the dialect's write lock statement in tx, its wait
// bounded by lockWait when the dialect has one.
func lockWrites(ctx context.Context, tx *sql.Tx, d *dialect) error {
	if d.lockWait != "" {
		if _, err := tx.ExecContext(ctx, d.lockWait); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, d.lockWrites); err != nil {
		return err
	}
	if d.lockWaitDone != "" {
		if _, err := tx.ExecContext(ctx, d.lockWaitDone); err != nil {
			return err
		}
	}
	return nil
}

// boolInt stores a bool as 0/1: the columns are INTEGER in both engines,
// and PostgreSQL does not turn a bool parameter into a number.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

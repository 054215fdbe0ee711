package cluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
)

// riverMigrateLock is the advisory lock that serializes River's migrations
// when several replicas start together ("acode" + 1 in ASCII, distinct from
// the state store's write lock).
const riverMigrateLock = 0x61636f6466

// startRiver brings River's tables up to date and starts a client whose
// only role so far is leader election: River elects only among clients
// that work a queue, so it works one queue with one worker kind that is
// never sent a job.
func startRiver(ctx context.Context, db *sql.DB, id string, log *slog.Logger) (*river.Client[*sql.Tx], error) {
	driver := riverdatabasesql.New(db)
	if err := migrateRiver(ctx, db, driver); err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &idleWorker{}); err != nil {
		return nil, fmt.Errorf("river workers: %w", err)
	}
	client, err := river.NewClient(driver, &river.Config{
		ID:      id,
		Logger:  log.With("component", "river"),
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		Workers: workers,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("start river client: %w", err)
	}
	return client, nil
}

// migrateRiver applies River's migrations under a session advisory lock
// held on a connection of its own, so replicas starting at once apply them
// once. (Not in one transaction: a River migration adds an enum value that
// the next one uses, which PostgreSQL allows only after a commit.)
func migrateRiver(ctx context.Context, db *sql.DB, driver *riverdatabasesql.Driver) error {
	migrator, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(riverMigrateLock)); err != nil {
		return fmt.Errorf("river migrations: take the lock: %w", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(riverMigrateLock))
	}()
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

// currentLeader reads the holder of River's unexpired leadership lease, ""
// when none holds it (an election is under way).
func currentLeader(ctx context.Context, db *sql.DB) (string, error) {
	var id string
	err := db.QueryRowContext(ctx, `SELECT leader_id FROM river_leader WHERE expires_at > now() LIMIT 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read river_leader: %w", err)
	}
	return id, nil
}

// idleArgs is the kind of idleWorker.
type idleArgs struct{}

func (idleArgs) Kind() string { return "acode_idle" }

// idleWorker exists because River elects only clients that work jobs; no
// acode code inserts its kind.
type idleWorker struct {
	river.WorkerDefaults[idleArgs]
}

func (*idleWorker) Work(context.Context, *river.Job[idleArgs]) error { return nil }

// Package state is acode's embedded state store: one SQLite file (pure Go,
// modernc.org/sqlite, no cgo) that survives restarts and is shared by every
// acode process on the host. It holds what Airbyte kept in its Postgres: jobs
// and their attempts, per-stream results, incremental cursors, and an index of
// the committed partitions; plus what resumable full refresh needs (range
// plans and uploaded parts).
//
// The storage manifest stays the source of truth for what a partition
// contains; this store is the coordination point (one job per connection at a
// time, across processes) and a fast index for status pages and the CLI.
//
// Writes that read before they write run in BEGIN IMMEDIATE transactions, so
// two processes racing for the same connection are serialized by SQLite's
// write lock and exactly one wins. Every time is stored as fixed-width UTC
// text (sortable, readable with the sqlite3 shell) and returned in UTC.
// Nothing in the API accepts a secret, so none can be stored.
package state

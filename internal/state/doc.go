// Package state is acode's state store: by default one SQLite file (pure Go,
// modernc.org/sqlite, no cgo) shared by every acode process on the host, or a
// PostgreSQL database (pgx) shared by acode processes on many hosts. It holds
// what Airbyte kept in its Postgres: jobs and their attempts, per-stream
// results, incremental cursors, and an index of the committed partitions;
// plus what resumable full refresh needs (range plans and uploaded parts).
//
// The storage manifest stays the source of truth for what a partition
// contains; this store is the coordination point (one job per connection at a
// time, across processes) and a fast index for status pages and the CLI.
//
// Queries are written once; a dialect rewrites placeholders and DDL types
// for PostgreSQL. Writes that read before they write run in serialized
// transactions (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL),
// so two processes racing for the same connection are serialized and exactly
// one wins. Every time is stored as fixed-width UTC text (sortable, readable
// with any SQL shell) and returned in UTC. Nothing in the API accepts a
// secret, so none can be stored.
package state

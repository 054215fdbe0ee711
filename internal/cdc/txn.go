package cdc

import "time"

// Op is a change's kind, the value of the change log's _acode_op column.
type Op byte

// Operations as Airbyte's CDC and Debezium name them: create, update,
// delete (and read, for rows of a backfill).
const (
	OpCreate Op = 'c'
	OpUpdate Op = 'u'
	OpDelete Op = 'd'
)

// Change is one row of a transaction for one landed table: the row image
// after the change (before it, for a delete) in MySQL's text form, nil for
// NULL, as the Parquet writer takes rows.
type Change struct {
	Table *Table
	Op    Op
	Row   [][]byte
}

// Txn is one whole transaction as the binlog recorded it. Only the changes
// of tables being landed are kept; a transaction without any still moves
// the position on.
type Txn struct {
	GTID       GTID
	CommitTime time.Time // the commit event's timestamp (seconds: MariaDB's binlog has no finer one)
	LogFile    string    // binlog file of the commit event, on the server read
	LogPos     uint32    // end of the commit event in LogFile
	Changes    []Change
	// DDL is the statement of a DDL transaction ("" otherwise); it names
	// its own schema in DDLSchema.
	DDL       string
	DDLSchema string
	// Bytes is about what the changes hold in memory.
	Bytes int64
	// Partial marks a chunk of a transaction too big to hold in memory:
	// more chunks follow, the last one (Partial false) ends it. A chunk
	// has the GTID event's time and its rows event's position, since the
	// commit is not read yet. SeqBase is how many changes of the
	// transaction came in earlier chunks.
	Partial bool
	SeqBase int
}

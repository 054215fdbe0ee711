package cdc

import (
	"errors"
	"fmt"
)

// Sentinel errors, classified by callers with errors.Is.
var (
	// ErrServerSettings marks a server whose binlog settings cannot feed a
	// change log (format, row image, metadata, GTIDs).
	ErrServerSettings = errors.New("server settings do not allow CDC")
	// ErrNotCDC marks a connection whose source does not use
	// replication_method CDC, or with no stream to land.
	ErrNotCDC = errors.New("connection is not set up for CDC")
	// ErrTwoReaders marks a failover pair whose two connections both
	// land CDC streams: one logical source must have one reader.
	ErrTwoReaders = errors.New("two cdc readers on one failover pair")
	// ErrCommitLost marks a stream whose change-log commit failed in this
	// process: its checkpoint stays before that file, so the reader stops
	// and the next one reads those transactions again.
	ErrCommitLost = errors.New("an earlier change-log commit of this stream failed; its transactions are read again by the next reader")
)

// SchemaChangedError says that a landed table's columns in the binlog no
// longer match the table the reader started with: the stream stops, as a
// sync stops on drift, until the change is looked at.
type SchemaChangedError struct {
	Table  string
	Detail string
	// Final is set when the change cannot be followed (a column dropped or
	// retyped); otherwise the reader may discover the table again and go
	// on with its added columns.
	Final bool
	table *Table
}

func (e *SchemaChangedError) Error() string {
	return fmt.Sprintf("table %s changed while its binlog was read: %s", e.Table, e.Detail)
}

// ValueError names the table, column and transaction of a binlog value
// that could not be turned into the column's text form.
type ValueError struct {
	Table  string
	Column string
	GTID   GTID
	Err    error
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("table %s column %s in transaction %s: %v", e.Table, e.Column, e.GTID, e.Err)
}

func (e *ValueError) Unwrap() error { return e.Err }

// Package cdc reads MariaDB's binlog by GTID and lands it as change-log
// Parquet beside each stream's table: STREAM_cdc/cog_dt_ingestion=DAY/.
//
// The pipeline is the same one-way flow as a sync, for an unbounded input:
// the reader (reader.go) turns binlog events into whole transactions; each
// stream's landing (landing.go) appends the transaction's row images to an
// open Parquet file in the spool directory; at a transaction boundary, every
// flush_interval or flush_mb, the file is staged, committed through
// internal/snapshot's manifest protocol, and only then is the stream's
// checkpoint (a GTID position, in the state store) advanced. A file's name
// is its first and last GTID, so a replay after a crash writes the same key
// for the same transactions, and the pending record written before each
// commit (checkpoint.go) tells a restart whether that commit happened.
//
// After a failover the reader continues on the pair's other server by
// GTID; when that server lacks transactions already landed (a primary
// killed while ahead of the replica promoted), rewind.go moves every
// checkpoint back to the common point and retract.go writes the orphans'
// rows again with _acode_op 'x'.
package cdc

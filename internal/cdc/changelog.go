package cdc

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/schema"
)

// Columns the change log adds after the row image: Airbyte's CDC metadata
// (typed here: timestamps are TIMESTAMPs, not strings) and acode's.
const (
	ColUpdatedAt  = "_ab_cdc_updated_at" // commit time of the change
	ColDeletedAt  = "_ab_cdc_deleted_at" // commit time of a delete, NULL otherwise
	ColLogFile    = "_ab_cdc_log_file"   // binlog file of the commit, on the server read
	ColLogPos     = "_ab_cdc_log_pos"    // end of the commit event in that file
	ColOp         = "_acode_op"          // c, u or d
	ColGTID       = "_acode_gtid"        // domain-server-sequence of the transaction
	ColGTIDDomain = "_acode_gtid_domain" // its domain ...
	ColGTIDSeq    = "_acode_gtid_seq"    // ... and sequence, to order changes numerically
	ColTxnSeq     = "_acode_txn_seq"     // 1-based position of the change within its transaction
	ColCommitTime = "_acode_commit_time" // commit time again, under acode's name
)

// metaColumns are the added columns as MySQL columns, so the snapshot's
// type mapping encodes them like any other.
var metaColumns = []schema.Column{
	{Name: ColUpdatedAt, DataType: "timestamp", ColumnType: "timestamp", Nullable: false},
	{Name: ColDeletedAt, DataType: "timestamp", ColumnType: "timestamp", Nullable: true},
	{Name: ColLogFile, DataType: "varchar", ColumnType: "varchar(512)", Nullable: false, MaxLength: 512},
	{Name: ColLogPos, DataType: "bigint", ColumnType: "bigint(20) unsigned", Unsigned: true},
	{Name: ColOp, DataType: "char", ColumnType: "char(1)", MaxLength: 1},
	{Name: ColGTID, DataType: "varchar", ColumnType: "varchar(64)", MaxLength: 64},
	{Name: ColGTIDDomain, DataType: "bigint", ColumnType: "bigint(20)"},
	{Name: ColGTIDSeq, DataType: "bigint", ColumnType: "bigint(20) unsigned", Unsigned: true},
	{Name: ColTxnSeq, DataType: "int", ColumnType: "int(11)"},
	{Name: ColCommitTime, DataType: "timestamp", ColumnType: "timestamp"},
}

// changeLogTable is the change log's table: the source's columns, then the
// added ones. A source column with an added column's name is an error.
func changeLogTable(src schema.Table, name string) (schema.Table, error) {
	t := src
	t.Name = name
	t.Columns = append([]schema.Column{}, src.Columns...)
	for _, m := range metaColumns {
		if _, clash := src.Column(m.Name); clash {
			return schema.Table{}, fmt.Errorf("table %s.%s has a column %s, which the change log adds itself", src.Namespace, src.Name, m.Name)
		}
		t.Columns = append(t.Columns, m)
	}
	return t, nil
}

// txnMeta is the text of the added columns one transaction's changes all
// share, made once per transaction (or chunk) instead of once per row: at
// a million rows that was the reader's biggest allocation.
type txnMeta struct {
	gtid                            GTID
	file                            string
	pos                             uint32
	commit                          time.Time
	ts, logFile, logPos, id, domain []byte
	seq                             []byte
}

func (m *txnMeta) set(txn *Txn) {
	if m.ts != nil && m.gtid == txn.GTID && m.pos == txn.LogPos && m.file == txn.LogFile && m.commit.Equal(txn.CommitTime) {
		return
	}
	m.gtid, m.file, m.pos, m.commit = txn.GTID, txn.LogFile, txn.LogPos, txn.CommitTime
	m.ts = []byte(txn.CommitTime.Format("2006-01-02 15:04:05"))
	m.logFile = []byte(txn.LogFile)
	m.logPos = strconv.AppendUint(nil, uint64(txn.LogPos), 10)
	m.id = []byte(txn.GTID.String())
	m.domain = strconv.AppendUint(nil, uint64(txn.GTID.Domain), 10)
	m.seq = strconv.AppendUint(nil, txn.GTID.Seq, 10)
}

// write appends one change: the row image, then the added columns. The
// Parquet writer copies what it keeps, so the row buffer and the values
// of txnMeta are reused for every row.
func (lf *logFile) write(row [][]byte, txn *Txn, op Op, seq int) error {
	m := &lf.meta
	m.set(txn)
	var deleted []byte
	if op == OpDelete {
		deleted = m.ts
	}
	lf.op[0] = byte(op)
	lf.seq = strconv.AppendInt(lf.seq[:0], int64(seq), 10)
	lf.row = append(append(lf.row[:0], row...), m.ts, deleted, m.logFile, m.logPos, lf.op[:],
		m.id, m.domain, m.seq, lf.seq, m.ts)
	err := lf.w.Write(lf.row)
	clear(lf.row) // hold no row image past its write
	return err
}

// logFile is one change-log Parquet file being written in the spool
// directory: whole transactions of one stream and one commit day.
type logFile struct {
	day         time.Time // commit day (UTC midnight) of every transaction in it
	first, last GTID
	txns        int
	rows        int64
	f           *os.File
	hash        hash.Hash
	size        int64
	w           *parquet.Writer

	meta txnMeta  // added columns of the transaction being written
	row  [][]byte // the row being written, reused
	op   [1]byte
	seq  []byte
}

func newLogFile(dir string, s *parquet.Schema, day, emitted time.Time, opts parquet.Options) (*logFile, error) {
	f, err := os.CreateTemp(dir, "cdc-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("create spool file: %w", err)
	}
	lf := &logFile{day: day, f: f, hash: sha256.New()}
	if lf.w, err = parquet.NewWriter(lf, s, emitted, opts); err != nil {
		lf.discard()
		return nil, fmt.Errorf("start change-log file: %w", err)
	}
	return lf, nil
}

// Write is the encoder's output: spooled, hashed and counted.
func (lf *logFile) Write(b []byte) (int, error) {
	n, err := lf.f.Write(b)
	lf.hash.Write(b[:n])
	lf.size += int64(n)
	return n, err
}

// add writes one transaction's changes of this stream.
func (lf *logFile) add(txn *Txn, changes []Change) error {
	for i, c := range changes {
		if err := lf.write(c.Row, txn, c.Op, txn.SeqBase+i+1); err != nil {
			return fmt.Errorf("write change %d of transaction %s to the change log of %s: %w", i+1, txn.GTID, c.Table.Name, err)
		}
		lf.rows++
	}
	if lf.txns == 0 {
		lf.first = txn.GTID
	}
	if lf.last != txn.GTID || lf.txns == 0 { // the chunks of a spilled transaction count once
		lf.txns++
	}
	lf.last = txn.GTID
	return nil
}

// close writes the footer; the file is then complete in the spool.
func (lf *logFile) close() (sha string, err error) {
	if err := lf.w.Close(); err != nil {
		return "", fmt.Errorf("close change-log file: %w", err)
	}
	if err := lf.f.Sync(); err != nil {
		return "", fmt.Errorf("sync change-log file: %w", err)
	}
	return hex.EncodeToString(lf.hash.Sum(nil)), nil
}

func (lf *logFile) discard() {
	lf.f.Close()
	os.Remove(lf.f.Name())
}

// name is the file's name in its partition: the path format's file prefix,
// the day, and the first and last GTID, so the same transactions always
// land under the same key.
func (lf *logFile) name(prefix string) string {
	if prefix != "" && !strings.HasSuffix(prefix, "_") {
		prefix += "_"
	}
	return fmt.Sprintf("%s%s_%s_%s.parquet", prefix, lf.day.Format("20060102"), lf.first, lf.last)
}

package cdc

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/snapshot"
)

// The merge of a compaction, bounded like reconcile's: a key pass keeps one
// entry per distinct primary key (its text, where its newest version is and
// that version's GTID order: about 100 bytes for a BIGINT key) for the keys
// of one hash bucket; with n input rows the merge runs ceil(n/KeysPerPass)
// buckets, each a key pass and a row pass over the downloaded files, so
// memory stays near KeysPerPass entries plus one row group of the part being
// written, whatever the table's size. Files are downloaded once to temp
// files (disk: the inputs' size).

// DefaultCompactKeysPerPass bounds the keys a compaction holds at once.
const DefaultCompactKeysPerPass = 4_000_000

// compactRowsPerPart is the most rows a snapshot part holds.
const compactRowsPerPart = 1_000_000

// compactFile is one input file: a base snapshot's part or a change-log
// file, decoded with the columns it has.
type compactFile struct {
	local   *parquet.Local
	keyDec  *parquet.Decoder // key and order columns only
	fullDec *parquet.Decoder
	keys    []int
	dom     int
	seq     int
	txn     int
	commit  int
	op      int
	gtid    int
	toOut   []int // per output column, the file's column (-1: NULL, added later)
}

// version is where the newest version of a key is, and its order.
type version struct {
	file    int32
	deleted bool
	row     int64
	dom     uint64
	seq     uint64
	txn     int64
	commit  [19]byte // "YYYY-MM-DD HH:MM:SS": compared as bytes, no allocation per row
}

// after reports whether v is a later change than w: by GTID within one
// domain, by commit time (then domain) across domains. A tie goes to the
// later input, which is never older.
func (v version) after(w version) bool {
	if v.dom == w.dom {
		return v.seq > w.seq || v.seq == w.seq && v.txn >= w.txn
	}
	c := bytes.Compare(v.commit[:], w.commit[:])
	return c > 0 || c == 0 && v.dom > w.dom
}

type compactMerge struct {
	out         schema.Table
	keyNames    []string
	files       []*compactFile
	rows        int64
	keysPerPass int
	seed        maphash.Seed
	// retracted are the GTIDs of orphan transactions a failover rewind
	// took back: none of their changes is a version of its key.
	retracted map[string]bool
}

func (m *compactMerge) close() {
	for _, f := range m.files {
		f.local.Close()
	}
}

// add downloads the files of manifest mf and plans their decoding.
func (m *compactMerge) add(ctx context.Context, sc *streamCompaction, mf *snapshot.Manifest) error {
	table := mf.Table()
	for _, f := range mf.Files {
		l, err := parquet.FetchIn(ctx, sc.store, f.Key, sc.spool)
		if err != nil {
			return err
		}
		cf := &compactFile{local: l}
		m.files = append(m.files, cf)
		if f.SHA256 != "" && l.SHA256 != f.SHA256 {
			return fmt.Errorf("%s changed since it was committed (SHA-256 %s, manifest %s)", f.Key, l.SHA256, f.SHA256)
		}
		if err := m.plan(cf, table, f.Key); err != nil {
			return err
		}
		m.rows += f.Rows
	}
	return nil
}

// plan resolves the key, order and output columns of one file, whose
// columns are its manifest's minus those added after it was written.
func (m *compactMerge) plan(cf *compactFile, table schema.Table, key string) error {
	s := cf.local.File.Schema()
	own := table
	own.Columns = nil
	for _, c := range table.Columns {
		if _, ok := s.Lookup(c.Name); ok {
			own.Columns = append(own.Columns, c)
		}
	}
	index := func(name string) int {
		for i, c := range own.Columns {
			if strings.EqualFold(c.Name, name) {
				return i
			}
		}
		return -1
	}
	for _, c := range own.Columns {
		if index := indexOf(m.out, c.Name); index < 0 {
			return fmt.Errorf("%s: column %s is not in the newest change log's columns (dropped?)", key, c.Name)
		}
	}
	for _, name := range m.keyNames {
		i := index(name)
		if i < 0 {
			return fmt.Errorf("%s: key column %s is not in the file", key, name)
		}
		cf.keys = append(cf.keys, i)
	}
	for name, at := range map[string]*int{ColGTIDDomain: &cf.dom, ColGTIDSeq: &cf.seq, ColTxnSeq: &cf.txn, ColCommitTime: &cf.commit, ColOp: &cf.op, ColGTID: &cf.gtid} {
		if *at = index(name); *at < 0 {
			return fmt.Errorf("%s: column %s is not in the file: not a change log", key, name)
		}
	}
	for _, c := range m.out.Columns {
		cf.toOut = append(cf.toOut, index(c.Name))
	}
	var err error
	if cf.fullDec, err = parquet.NewDecoder(cf.local.File, own); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	if cf.keyDec, err = parquet.NewDecoder(cf.local.File, own); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	cf.keyDec.Only(append([]string{ColGTIDDomain, ColGTIDSeq, ColTxnSeq, ColCommitTime, ColOp, ColGTID}, m.keyNames...))
	return nil
}

func indexOf(t schema.Table, name string) int {
	for i, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

func (m *compactMerge) passes() int {
	return max(1, int((m.rows+int64(m.keysPerPass)-1)/int64(m.keysPerPass)))
}

// appendKey encodes the key columns of row: length-prefixed text, with a
// distinct marker for NULL.
func appendKey(b []byte, row [][]byte, cols []int) []byte {
	for _, i := range cols {
		if row[i] == nil {
			b = append(b, 0xff)
			continue
		}
		b = strconv.AppendInt(b, int64(len(row[i])), 10)
		b = append(b, ':')
		b = append(b, row[i]...)
	}
	return b
}

// versionOf reads a row's order columns.
func (cf *compactFile) versionOf(text [][]byte, fi int, row int64) (version, error) {
	v := version{file: int32(fi), row: row}
	copy(v.commit[:], text[cf.commit])
	var err error
	if v.dom, err = strconv.ParseUint(string(text[cf.dom]), 10, 64); err != nil {
		return v, fmt.Errorf("%s row %d: %s: %w", cf.local.Key, row+1, ColGTIDDomain, err)
	}
	if v.seq, err = strconv.ParseUint(string(text[cf.seq]), 10, 64); err != nil {
		return v, fmt.Errorf("%s row %d: %s: %w", cf.local.Key, row+1, ColGTIDSeq, err)
	}
	if v.txn, err = strconv.ParseInt(string(text[cf.txn]), 10, 64); err != nil {
		return v, fmt.Errorf("%s row %d: %s: %w", cf.local.Key, row+1, ColTxnSeq, err)
	}
	v.deleted = string(text[cf.op]) == string(OpDelete)
	return v, nil
}

// findRetractions collects the GTIDs of the retraction rows (`_acode_op`
// x), which are only in retraction files.
func (m *compactMerge) findRetractions() error {
	m.retracted = map[string]bool{}
	for _, cf := range m.files {
		if !strings.HasSuffix(cf.local.Key, retractSuffix) {
			continue
		}
		err := parquet.EachRow(cf.local.File, func(r pq.Row) error {
			text, err := cf.keyDec.Text(r)
			if err == nil && string(text[cf.op]) == string(OpRetract) {
				m.retracted[string(text[cf.gtid])] = true
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("retractions in %s: %w", cf.local.Key, err)
		}
	}
	return nil
}

// retractedRow is a retraction row or a change of a transaction a failover
// rewind took back: no version of its key.
func (m *compactMerge) retractedRow(cf *compactFile, text [][]byte) bool {
	return string(text[cf.op]) == string(OpRetract) || m.retracted[string(text[cf.gtid])]
}

// keyPass finds the newest version of every key of bucket (of buckets).
func (m *compactMerge) keyPass(bucket, buckets int) (map[string]version, error) {
	keys := map[string]version{}
	var kb []byte
	for fi, cf := range m.files {
		row := int64(-1)
		err := parquet.EachRow(cf.local.File, func(r pq.Row) error {
			row++
			text, err := cf.keyDec.Text(r)
			if err != nil {
				return err
			}
			if m.retractedRow(cf, text) {
				return nil
			}
			kb = appendKey(kb[:0], text, cf.keys)
			if buckets > 1 && int(maphash.Bytes(m.seed, kb)%uint64(buckets)) != bucket {
				return nil
			}
			v, err := cf.versionOf(text, fi, row)
			if err != nil {
				return err
			}
			if w, ok := keys[string(kb)]; !ok || v.after(w) {
				keys[string(kb)] = v
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("key pass over %s: %w", cf.local.Key, err)
		}
	}
	return keys, nil
}

// write runs every bucket's key pass and row pass: each key's newest
// version, unless a delete, goes to w in the output's columns.
func (m *compactMerge) write(w *partWriter) (deleted int64, err error) {
	if err := m.findRetractions(); err != nil {
		return 0, err
	}
	buckets := m.passes()
	var kb []byte
	outRow := make([][]byte, len(m.out.Columns))
	for b := range buckets {
		keys, err := m.keyPass(b, buckets)
		if err != nil {
			return deleted, err
		}
		for _, v := range keys {
			if v.deleted {
				deleted++
			}
		}
		for fi, cf := range m.files {
			row := int64(-1)
			err := parquet.EachRow(cf.local.File, func(r pq.Row) error {
				row++
				text, err := cf.keyDec.Text(r)
				if err != nil {
					return err
				}
				kb = appendKey(kb[:0], text, cf.keys)
				if buckets > 1 && int(maphash.Bytes(m.seed, kb)%uint64(buckets)) != b {
					return nil
				}
				if v, ok := keys[string(kb)]; !ok || int(v.file) != fi || v.row != row || v.deleted {
					return nil
				}
				full, err := cf.fullDec.Text(r)
				if err != nil {
					return err
				}
				for i, at := range cf.toOut {
					outRow[i] = nil
					if at >= 0 {
						outRow[i] = full[at]
					}
				}
				return w.write(outRow)
			})
			if err != nil {
				return deleted, fmt.Errorf("row pass over %s: %w", cf.local.Key, err)
			}
		}
	}
	return deleted, nil
}

// partWriter writes the snapshot's rows into parts of at most
// compactRowsPerPart rows in the spool directory.
type partWriter struct {
	dir     string
	schema  *parquet.Schema
	day     time.Time
	emitted time.Time
	opts    parquet.Options
	open    *logFile
	done    []*logFile
}

func (p *partWriter) write(row [][]byte) error {
	if p.open == nil {
		lf, err := newLogFile(p.dir, p.schema, p.day, p.emitted, p.opts)
		if err != nil {
			return err
		}
		p.open = lf
	}
	if err := p.open.w.Write(row); err != nil {
		return fmt.Errorf("write snapshot row: %w", err)
	}
	p.open.rows++
	if p.open.rows >= compactRowsPerPart {
		p.done, p.open = append(p.done, p.open), nil
	}
	return nil
}

// finish moves the open part to the done ones.
func (p *partWriter) finish() {
	if p.open != nil {
		p.done, p.open = append(p.done, p.open), nil
	}
}

func (p *partWriter) discard() {
	p.finish()
	for _, lf := range p.done {
		lf.discard()
	}
}

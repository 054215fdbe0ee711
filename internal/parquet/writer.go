package parquet

import (
	"bufio"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/parquet-go/parquet-go/format"
)

// Options are the file-level writer settings, from the destination config.
// Zero fields take the defaults listed; note that the zero value of
// Dictionary is off, so start from DefaultOptions when building them.
type Options struct {
	// Codec is the compression codec name: UNCOMPRESSED, SNAPPY (default),
	// GZIP, BROTLI, LZ4 (written as LZ4_RAW) or ZSTD.
	Codec string
	// RowGroupRows caps the rows in one row group (default 1,000,000).
	RowGroupRows int
	// RowGroupBytes flushes a row group once its buffered (mostly already
	// compressed) size passes it (default 64 MiB), which is what keeps the
	// writer's memory flat whatever the table size.
	RowGroupBytes int64
	// PageBytes is the target data page size before compression (default 1 MiB).
	// It is also the dictionary size past which a string column falls back to
	// PLAIN, as parquet-mr does.
	PageBytes int
	// Dictionary enables dictionary encoding for string columns.
	Dictionary bool
	// SpoolDir, when set, keeps the compressed pages of the row group being
	// built in a temp file there (removed by Close) instead of in memory, so a writer's memory
	// stays near one page per column whatever RowGroupBytes is (several
	// writers at once times a 64 MiB row group would not fit in a small
	// container). Empty keeps them in memory.
	SpoolDir string
	// Mode, when set, must match the Schema's mode (NewSchema takes the
	// mode); it is here so a config can carry every writer setting in one
	// value. Empty means the Schema's.
	Mode Mode
}

// Defaults for Options.
const (
	DefaultRowGroupRows  = 1_000_000
	DefaultRowGroupBytes = 64 << 20
	DefaultPageBytes     = 1 << 20
)

// DefaultOptions returns destination-s3's defaults with acode's bounded row
// groups: SNAPPY, 1 MiB pages, dictionary on; the mode is the Schema's.
func DefaultOptions() Options {
	return Options{
		Codec:         DefaultCodec,
		RowGroupRows:  DefaultRowGroupRows,
		RowGroupBytes: DefaultRowGroupBytes,
		PageBytes:     DefaultPageBytes,
		Dictionary:    true,
	}
}

const (
	// batchRows rows are converted before being handed to the column
	// writers in one call per column: fewer calls, and pages still close
	// near PageBytes (a page closes after the batch that fills it, so it
	// overshoots by at most one batch of one column). 512 rather than 128
	// saved ~3% of the writer's CPU per row; 1024 gained nothing more.
	batchRows = 512
	// batchArenaBytes hands a batch over early when its byte values are big
	// (BLOBs), bounding the copy of the caller's data.
	batchArenaBytes = 4 << 20
)

// Writer encodes rows of one table into one Parquet file. It is not safe for
// concurrent use; run one Writer per file.
//
// It writes the file itself (column.go, page.go, file.go) rather than
// through parquet-go's generic writer, whose boxed values, column buffers
// and page machinery cost about as much CPU as converting the values; it
// reuses parquet-go's schema, thrift, RLE and codecs for the bytes.
type Writer struct {
	schema *Schema
	opts   Options
	file   fileWriter

	vals  []val  // batchRows slots per leaf column, leaf after leaf
	arena []byte // copies of the batch's byte values
	n     int    // rows in the batch

	emitted   uint64
	ids       *uuidGen
	nulled    []int64    // per table column: values written as NULL because the type cannot hold them
	geo       geoColumns // what the spatial columns' values showed, for the "geo" metadata
	bigVal    big.Int
	digits    []byte
	groupRows int64 // rows in the current row group, batch included
	size      int64 // the file's estimated size after the last batch: Size is called per row
	rows      int64
	closed    bool
	err       error // first failure of the file itself (not of a value): sticky
}

// NewWriter starts a Parquet file on w. emittedAt is the job's one
// _airbyte_emitted_at value. The file is complete only after Close.
func NewWriter(w io.Writer, s *Schema, emittedAt time.Time, opts Options) (*Writer, error) {
	if opts.Mode != "" && opts.Mode != s.mode {
		return nil, fmt.Errorf("parquet writer: options mode %q, schema mode %q", opts.Mode, s.mode)
	}
	codec, err := codecFor(opts.Codec)
	if err != nil {
		return nil, err
	}
	opts.RowGroupRows = cmpOr(opts.RowGroupRows, DefaultRowGroupRows)
	opts.RowGroupBytes = cmpOr(opts.RowGroupBytes, DefaultRowGroupBytes)
	opts.PageBytes = cmpOr(opts.PageBytes, DefaultPageBytes)
	var store pageStore = newMemStore(s.leaves)
	if opts.SpoolDir != "" {
		if store, err = newSpoolStore(opts.SpoolDir, s.leaves); err != nil {
			return nil, err
		}
	}
	wr := &Writer{
		schema:  s,
		opts:    opts,
		vals:    make([]val, s.leaves*batchRows),
		emitted: uint64(emittedAt.UnixMilli()),
		ids:     newUUIDGen(),
		nulled:  make([]int64, len(s.columns)),
		geo:     newGeoColumns(s.columns),
	}
	wr.file = fileWriter{
		out:    countingWriter{w: bufio.NewWriterSize(w, 256<<10)},
		schema: s,
		sink:   pageSink{codec: codec, store: store},
	}
	for i := range s.leafInfo {
		wr.file.cols = append(wr.file.cols, newColWriter(&s.leafInfo[i], opts.Dictionary))
	}
	return wr, nil
}

func cmpOr[T int | int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Write converts one row (one value per table column, MySQL text protocol
// form, nil for NULL) and appends it. The values are copied, so the caller
// may reuse its buffers once Write returns. A value that does not convert
// returns *ValueError; that row is not written and the writer stays usable.
func (w *Writer) Write(row [][]byte) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	cols := w.schema.columns
	if len(row) != len(cols) {
		return fmt.Errorf("%w: got %d, table %s has %d columns", ErrRowWidth, len(row), w.schema.table.Name, len(cols))
	}
	mark := len(w.arena)
	for i := range cols {
		if err := w.encode(&cols[i], row[i]); err != nil {
			w.arena = w.arena[:mark]
			return newValueError(cols[i].name, row[i], err)
		}
	}
	start := len(w.arena)
	w.arena = w.ids.appendUUID(w.arena)
	w.setBytes(w.schema.abID, start, 0)
	w.setBits(w.schema.emitted, w.emitted, 0)
	if p := w.schema.props; p >= 0 {
		w.null(p)
		w.null(p + 1)
	}
	w.n++
	w.rows++
	w.groupRows++
	if w.n == batchRows || len(w.arena) >= batchArenaBytes || w.groupRows >= int64(w.opts.RowGroupRows) {
		w.err = w.flushBatch()
		return w.err
	}
	return nil
}

// flushBatch hands the batch to the column writers, then closes the row
// group if it reached its row or byte bound.
func (w *Writer) flushBatch() error {
	if err := w.writeBatch(); err != nil {
		return err
	}
	group := w.groupBytes()
	if w.groupRows >= int64(w.opts.RowGroupRows) || group >= w.opts.RowGroupBytes {
		if err := w.file.flushRowGroup(w.groupRows); err != nil {
			return fmt.Errorf("flush row group: %w", err)
		}
		w.groupRows = 0
		group = 0
	}
	w.size = w.file.out.off + group
	return nil
}

// groupBytes is the row group's size so far: its stored (compressed) pages,
// its open pages and dictionaries, uncompressed.
func (w *Writer) groupBytes() int64 {
	n := w.file.sink.store.total()
	for _, c := range w.file.cols {
		n += c.openBytes()
	}
	return n
}

// writeBatch hands the converted rows to the column writers, which copy
// them into pages, and closes the pages that reached PageBytes.
func (w *Writer) writeBatch() error {
	if w.n == 0 {
		return nil
	}
	f := &w.file
	for leaf, c := range f.cols {
		c.write(w.vals[leaf*batchRows:][:w.n], w.arena)
		if c.pageBytes() >= w.opts.PageBytes || c.dictOn && c.dict.bytes > w.opts.PageBytes {
			if err := c.closePage(&f.sink, leaf); err != nil {
				return fmt.Errorf("write column %s: %w", pathString(c.li.path), err)
			}
			if c.dictOn && c.dict.bytes > w.opts.PageBytes {
				c.dictOn = false // PLAIN for the rest of the chunk, as parquet-java and parquet-go do
			}
		}
	}
	w.n = 0
	w.arena = w.arena[:0]
	return nil
}

// Rows is the number of rows written so far.
func (w *Writer) Rows() int64 { return w.rows }

// Unheld returns, per column name, how many values were written as NULL
// because the column's Parquet type cannot hold them (zero and partial
// zero dates); nil when there were none. The stream's statistics report
// them, so no value changes silently.
func (w *Writer) Unheld() map[string]int64 {
	var out map[string]int64
	for i, n := range w.nulled {
		if n > 0 {
			if out == nil {
				out = map[string]int64{}
			}
			out[w.schema.columns[i].name] = n
		}
	}
	return out
}

// Size estimates the file size so far: bytes already written plus the
// buffered row group (compressed pages, plus values not yet paged, counted
// uncompressed) plus the batch being converted. Callers roll files with it;
// it is cheap enough to call after every row. After Close it is the size of
// the complete file.
func (w *Writer) Size() int64 {
	return w.size + int64(len(w.arena)) + int64(w.n*w.schema.leaves*8)
}

// Close writes the buffered rows and the footer. It does not close the
// underlying io.Writer. An empty file (no rows) is still a valid Parquet file.
// After a write error (e.g. the disk is full) the file is unusable: Write and
// Close keep returning that error, and the caller discards the part.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	defer w.file.sink.store.close()
	if w.err != nil {
		return w.err
	}
	if w.err = w.writeBatch(); w.err != nil {
		return w.err
	}
	if err := w.file.flushRowGroup(w.groupRows); err != nil {
		w.err = fmt.Errorf("flush row group: %w", err)
		return w.err
	}
	if w.geo != nil {
		w.file.kv = append(w.file.kv, format.KeyValue{Key: "geo", Value: w.geo.metadata(w.schema.columns)})
	}
	if err := w.file.close(); err != nil {
		w.err = fmt.Errorf("close parquet file: %w", err)
	}
	w.size = w.file.out.off
	return w.err
}

package parquet

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

const (
	magic = "PAR1"
	// createdBy names the writer in the footer. Readers key known-bug
	// workarounds on parquet-mr and parquet-cpp versions only.
	createdBy = "acode"
	// fileFormatVersion is the footer's version: 2, the format parquet-go
	// and parquet-java write with page indexes.
	fileFormatVersion = 2
)

// countingWriter buffers the output and counts what went through it, the
// file offset of the next byte. Its first error sticks.
type countingWriter struct {
	w   *bufio.Writer
	off int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.off += int64(n)
	c.err = err
	return n, err
}

func (c *countingWriter) flush() error {
	if c.err == nil {
		c.err = c.w.Flush()
	}
	return c.err
}

// fileWriter lays out the file: row groups of column chunks, then the page
// indexes, then the footer.
type fileWriter struct {
	out       countingWriter
	schema    *Schema
	cols      []*colWriter
	sink      pageSink
	started   bool
	rowGroups []format.RowGroup
	colIdx    [][]format.ColumnIndex // per row group, per leaf
	offIdx    [][]format.OffsetIndex
	kv        []format.KeyValue
	enc       *thrift.Encoder
}

func (f *fileWriter) start() error {
	if !f.started {
		f.started = true
		_, err := f.out.Write([]byte(magic))
		return err
	}
	return nil
}

// flushRowGroup closes every column's open page and writes the row group.
func (f *fileWriter) flushRowGroup(rows int64) error {
	if rows == 0 {
		return nil
	}
	for i, c := range f.cols {
		if err := c.closePage(&f.sink, i); err != nil {
			return fmt.Errorf("column %s: %w", pathString(c.li.path), err)
		}
	}
	if err := f.start(); err != nil {
		return err
	}
	rg := format.RowGroup{NumRows: rows, FileOffset: f.out.off, Ordinal: int16(len(f.rowGroups))}
	cis := make([]format.ColumnIndex, len(f.cols))
	ois := make([]format.OffsetIndex, len(f.cols))
	for i, c := range f.cols {
		cc, err := f.writeChunk(i, c)
		if err != nil {
			return fmt.Errorf("column %s: %w", pathString(c.li.path), err)
		}
		rg.Columns = append(rg.Columns, cc)
		rg.TotalByteSize += cc.MetaData.TotalUncompressedSize
		rg.TotalCompressedSize += cc.MetaData.TotalCompressedSize
		cis[i], ois[i] = c.colIndex, c.offIndex
		c.resetChunk()
	}
	f.rowGroups = append(f.rowGroups, rg)
	f.colIdx = append(f.colIdx, cis)
	f.offIdx = append(f.offIdx, ois)
	f.sink.store.reset()
	return f.out.flush()
}

// writeChunk writes one column chunk: its dictionary page, then its stored
// data pages.
func (f *fileWriter) writeChunk(leaf int, c *colWriter) (format.ColumnChunk, error) {
	md := c.li.template
	md.Codec = f.sink.codec.CompressionCodec()
	md.NumValues = c.chunkValues
	start := f.out.off
	hasDict := c.dictPages > 0
	if hasDict {
		md.DictionaryPageOffset = f.out.off
		if err := f.writeDictPage(c); err != nil {
			return format.ColumnChunk{}, err
		}
	}
	md.DataPageOffset = f.out.off
	for i := range c.offIndex.PageLocations {
		c.offIndex.PageLocations[i].Offset += md.DataPageOffset
	}
	if err := f.sink.store.copyTo(&f.out, leaf); err != nil {
		return format.ColumnChunk{}, err
	}
	if f.out.err != nil {
		return format.ColumnChunk{}, f.out.err
	}
	md.TotalCompressedSize = f.out.off - start
	md.TotalUncompressedSize = c.uncompressed
	md.Encoding = chunkEncodings(c)
	md.EncodingStats = encodingStats(c, hasDict)
	md.Statistics = format.Statistics{
		NullCount: c.chunkNulls,
		MinValue:  c.chunk.statMin(c.li, 0),
		MaxValue:  c.chunk.statMax(c.li, 0),
	}
	if !c.chunk.has {
		md.Statistics.MinValue, md.Statistics.MaxValue = nil, nil
	} else if c.li.order == orderSigned {
		// The deprecated fields, for older readers: only where their
		// signed order is the column's, as parquet-java does.
		md.Statistics.Min, md.Statistics.Max = md.Statistics.MinValue, md.Statistics.MaxValue
	}
	return format.ColumnChunk{FileOffset: start, MetaData: md}, nil
}

// writeDictPage writes the chunk's dictionary, PLAIN, before its data pages.
// Its size counts in the chunk's totals, as the data pages' do.
func (f *fileWriter) writeDictPage(c *colWriter) error {
	body := c.dict.appendPlain(f.sink.body[:0])
	f.sink.body = body
	z, err := compressPage(f.sink.codec, &f.sink.zbuf, body)
	if err != nil {
		return err
	}
	h := format.PageHeader{
		Type:                 format.DictionaryPage,
		UncompressedPageSize: int32(len(body)),
		CompressedPageSize:   int32(len(z)),
	}
	h.DictionaryPageHeader.Set(format.DictionaryPageHeader{NumValues: int32(c.dict.len()), Encoding: format.Plain})
	hb, err := f.sink.header.encode(&h)
	if err != nil {
		return err
	}
	c.uncompressed += int64(len(hb) + len(body))
	f.out.Write(hb)
	_, err = f.out.Write(z)
	return err
}

func chunkEncodings(c *colWriter) []format.Encoding {
	var out []format.Encoding
	if c.plainPages > 0 || c.dictPages > 0 { // the dictionary page is PLAIN
		out = append(out, format.Plain)
	}
	if c.li.maxDef > 0 || c.li.maxRep > 0 {
		out = append(out, format.RLE)
	}
	if c.dictPages > 0 {
		out = append(out, format.RLEDictionary)
	}
	return out
}

func encodingStats(c *colWriter, hasDict bool) []format.PageEncodingStats {
	var out []format.PageEncodingStats
	if hasDict {
		out = append(out, format.PageEncodingStats{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1})
	}
	if c.plainPages > 0 {
		out = append(out, format.PageEncodingStats{PageType: format.DataPage, Encoding: format.Plain, Count: c.plainPages})
	}
	if c.dictPages > 0 {
		out = append(out, format.PageEncodingStats{PageType: format.DataPage, Encoding: format.RLEDictionary, Count: c.dictPages})
	}
	return out
}

// resetChunk starts the leaf's next column chunk, with its dictionary again.
func (c *colWriter) resetChunk() {
	c.chunk.reset()
	c.chunkValues, c.chunkNulls = 0, 0
	c.uncompressed, c.compressed = 0, 0
	c.dictPages, c.plainPages = 0, 0
	c.colIndex = format.ColumnIndex{}
	c.offIndex = format.OffsetIndex{}
	c.dictOn = c.dict.on
	if c.dict.on {
		c.dict.reset()
	}
}

// close writes the page indexes and the footer.
func (f *fileWriter) close() error {
	if err := f.start(); err != nil {
		return err
	}
	f.enc = thrift.NewEncoder(new(thrift.CompactProtocol).NewWriter(&f.out))
	for i := range f.rowGroups {
		for j := range f.rowGroups[i].Columns {
			cc := &f.rowGroups[i].Columns[j]
			cc.ColumnIndexOffset = f.out.off
			if err := f.enc.Encode(&f.colIdx[i][j]); err != nil {
				return fmt.Errorf("column index: %w", err)
			}
			cc.ColumnIndexLength = int32(f.out.off - cc.ColumnIndexOffset)
		}
	}
	for i := range f.rowGroups {
		for j := range f.rowGroups[i].Columns {
			cc := &f.rowGroups[i].Columns[j]
			cc.OffsetIndexOffset = f.out.off
			if err := f.enc.Encode(&f.offIdx[i][j]); err != nil {
				return fmt.Errorf("offset index: %w", err)
			}
			cc.OffsetIndexLength = int32(f.out.off - cc.OffsetIndexOffset)
		}
	}
	var rows int64
	for _, rg := range f.rowGroups {
		rows += rg.NumRows
	}
	md := format.FileMetaData{
		Version:          fileFormatVersion,
		Schema:           f.schema.elements,
		NumRows:          rows,
		RowGroups:        f.rowGroups,
		KeyValueMetadata: f.kv,
		CreatedBy:        createdBy,
		ColumnOrders:     f.schema.orders,
	}
	start := f.out.off
	if err := f.enc.Encode(&md); err != nil {
		return fmt.Errorf("footer: %w", err)
	}
	var tail [8]byte
	binary.LittleEndian.PutUint32(tail[:4], uint32(f.out.off-start))
	copy(tail[4:], magic)
	f.out.Write(tail[:])
	return f.out.flush()
}

func pathString(p []string) string { return strings.Join(p, ".") }

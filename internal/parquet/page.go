package parquet

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// columnIndexLimit is how many bytes of a byte value the column index keeps
// per page, parquet-go's default (the chunk's statistics keep it whole).
const columnIndexLimit = 16

// pageSink is what closing a page needs besides the column: the codec, the
// row group's page store and a thrift encoder for the headers.
type pageSink struct {
	codec  compress.Codec
	store  pageStore
	header headerEncoder
	// Scratch shared by every column: pages close one at a time.
	levels []byte
	body   []byte
	zbuf   []byte
}

// headerEncoder thrift-encodes page headers into one reused buffer.
type headerEncoder struct {
	buf []byte
	enc *thrift.Encoder
}

func (h *headerEncoder) Write(p []byte) (int, error) {
	h.buf = append(h.buf, p...)
	return len(p), nil
}

func (h *headerEncoder) encode(ph *format.PageHeader) ([]byte, error) {
	if h.enc == nil {
		h.enc = thrift.NewEncoder(new(thrift.CompactProtocol).NewWriter(h))
	}
	h.buf = h.buf[:0]
	if err := h.enc.Encode(ph); err != nil {
		return nil, fmt.Errorf("page header: %w", err)
	}
	return h.buf, nil
}

// appendLevels appends a V1 page's levels of n values: a 4-byte length,
// then the RLE/bit-packed hybrid. defs nil means all n are level.
func appendLevels(dst []byte, defs []uint8, n int, level uint8, width int, scratch *[]byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	if defs == nil {
		dst = binary.AppendUvarint(dst, uint64(n)<<1)
		for i := 0; i < (width+7)/8; i++ {
			dst = append(dst, level>>(8*i))
		}
	} else {
		enc := rle.Encoding{BitWidth: width}
		out, err := enc.EncodeLevels((*scratch)[:0], defs)
		if err != nil {
			return nil, fmt.Errorf("levels: %w", err)
		}
		*scratch = out
		dst = append(dst, out...)
	}
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst, nil
}

// closePage encodes, compresses and stores the open page, and records it in
// the chunk's statistics and page index.
func (c *colWriter) closePage(s *pageSink, leaf int) error {
	if c.n == 0 {
		return nil
	}
	li := c.li
	body := s.body[:0]
	var err error
	if li.maxRep > 0 { // acode writes no lists: every repetition level is 0
		if body, err = appendLevels(body, nil, c.n, 0, bits.Len8(li.maxRep), &s.levels); err != nil {
			return err
		}
	}
	if li.maxDef > 0 {
		if body, err = appendLevels(body, c.levelsOrNil(), c.n, li.maxDef, bits.Len8(li.maxDef), &s.levels); err != nil {
			return err
		}
	}
	enc := format.Plain
	if c.dictOn {
		enc = format.RLEDictionary
		width := max(1, bits.Len32(uint32(c.dict.len()-1)))
		body = append(body, byte(width))
		e := rle.Encoding{BitWidth: width}
		out, err := e.EncodeInt32(s.levels[:0], c.idx)
		if err != nil {
			return fmt.Errorf("dictionary indexes: %w", err)
		}
		s.levels = out
		body = append(body, out...)
		c.dictBounds()
		c.dictPages++
	} else {
		body = append(body, c.plain...)
		c.plainPages++
	}
	s.body = body
	h := format.PageHeader{
		Type:                 format.DataPage,
		UncompressedPageSize: int32(len(body)),
	}
	h.DataPageHeader.Set(format.DataPageHeader{
		NumValues:               int32(c.n),
		Encoding:                enc,
		DefinitionLevelEncoding: format.RLE,
		RepetitionLevelEncoding: format.RLE,
	})
	if err := c.store(s, leaf, &h, body); err != nil {
		return err
	}
	c.recordPage()
	return nil
}

func (c *colWriter) levelsOrNil() []uint8 {
	if c.defsOn {
		return c.defs
	}
	return nil
}

// store compresses body and writes it with its header to the page store,
// recording its place in the offset index.
func (c *colWriter) store(s *pageSink, leaf int, h *format.PageHeader, body []byte) error {
	z, err := compressPage(s.codec, &s.zbuf, body)
	if err != nil {
		return err
	}
	h.CompressedPageSize = int32(len(z))
	hb, err := s.header.encode(h)
	if err != nil {
		return err
	}
	c.offIndex.PageLocations = append(c.offIndex.PageLocations, format.PageLocation{
		Offset:             s.store.size(leaf),
		CompressedPageSize: int32(len(hb) + len(z)),
		FirstRowIndex:      c.chunkValues,
	})
	if err := s.store.write(leaf, hb, z); err != nil {
		return err
	}
	c.uncompressed += int64(len(hb) + len(body))
	c.compressed += int64(len(hb) + len(z))
	return nil
}

func compressPage(codec compress.Codec, zbuf *[]byte, body []byte) ([]byte, error) {
	if codec.CompressionCodec() == format.Uncompressed {
		return body, nil
	}
	z, err := codec.Encode((*zbuf)[:0], body)
	if err != nil {
		return nil, fmt.Errorf("compress page: %w", err)
	}
	*zbuf = z
	return z, nil
}

// recordPage adds the closed page to the column index and the chunk's
// statistics and starts the next page.
func (c *colWriter) recordPage() {
	li := c.li
	ci := &c.colIndex
	ci.NullPages = append(ci.NullPages, c.nulls == c.n)
	ci.MinValues = append(ci.MinValues, c.page.statMin(li, columnIndexLimit))
	ci.MaxValues = append(ci.MaxValues, c.page.statMax(li, columnIndexLimit))
	ci.NullCounts = append(ci.NullCounts, int64(c.nulls))
	c.chunk.merge(li, &c.page)
	c.chunkValues += int64(c.n)
	c.chunkNulls += int64(c.nulls)
	c.page.reset()
	c.plain, c.idx, c.defs, c.defsOn = c.plain[:0], c.idx[:0], c.defs[:0], false
	c.n, c.nulls, c.seen = 0, 0, c.seen[:0]
	c.stamp++
}

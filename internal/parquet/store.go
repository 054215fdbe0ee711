package parquet

import (
	"fmt"
	"io"
	"os"
)

// pageStore holds the compressed pages of the row group being built, per
// leaf, until the row group is written out column chunk after column chunk.
type pageStore interface {
	write(leaf int, parts ...[]byte) error
	size(leaf int) int64 // bytes stored for leaf
	total() int64        // bytes stored for every leaf
	copyTo(w io.Writer, leaf int) error
	reset() // the row group was written: drop every page
	close() error
}

// memStore keeps the pages on the heap, in chunks of memChunk bytes that
// are reused from one row group to the next: no copying as a chunk grows,
// and no garbage once the first row group is written.
type memStore struct {
	leaves [][][]byte // per leaf, its chunks; the last one is being filled
	sizes  []int64
	free   [][]byte
	n      int64
}

const memChunk = 256 << 10

func newMemStore(leaves int) *memStore {
	return &memStore{leaves: make([][][]byte, leaves), sizes: make([]int64, leaves)}
}

func (m *memStore) write(leaf int, parts ...[]byte) error {
	for _, p := range parts {
		m.sizes[leaf] += int64(len(p))
		m.n += int64(len(p))
		for len(p) > 0 {
			cs := m.leaves[leaf]
			if len(cs) == 0 || len(cs[len(cs)-1]) == cap(cs[len(cs)-1]) {
				cs = append(cs, m.chunk())
				m.leaves[leaf] = cs
			}
			last := &cs[len(cs)-1]
			k := min(len(p), cap(*last)-len(*last))
			*last = append(*last, p[:k]...)
			p = p[k:]
		}
	}
	return nil
}

func (m *memStore) chunk() []byte {
	if k := len(m.free) - 1; k >= 0 {
		c := m.free[k]
		m.free = m.free[:k]
		return c[:0]
	}
	return make([]byte, 0, memChunk)
}

func (m *memStore) size(leaf int) int64 { return m.sizes[leaf] }
func (m *memStore) total() int64        { return m.n }

func (m *memStore) copyTo(w io.Writer, leaf int) error {
	for _, c := range m.leaves[leaf] {
		if _, err := w.Write(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) reset() {
	for i, cs := range m.leaves {
		m.free = append(m.free, cs...)
		clear(cs)
		m.leaves[i] = cs[:0]
		m.sizes[i] = 0
	}
	m.n = 0
}

func (m *memStore) close() error { return nil }

// spoolStore keeps the pages in one temp file of the spool dir (pages-*),
// appended as they close; each leaf remembers its extents. Close removes
// the file; what a killed process leaves is for the spool dir's owner to
// clear at its next start (the syncer and the CDC reader do), and shows
// while it runs that a row group is being spooled.
type spoolStore struct {
	f       *os.File
	end     int64
	extents [][]extent
	sizes   []int64
	buf     []byte
}

type extent struct{ off, n int64 }

func newSpoolStore(dir string, leaves int) (*spoolStore, error) {
	f, err := os.CreateTemp(dir, "pages-*")
	if err != nil {
		return nil, fmt.Errorf("spool pages: %w", err)
	}
	return &spoolStore{f: f, extents: make([][]extent, leaves), sizes: make([]int64, leaves)}, nil
}

func (s *spoolStore) write(leaf int, parts ...[]byte) error {
	for _, p := range parts {
		if _, err := s.f.WriteAt(p, s.end); err != nil {
			return fmt.Errorf("spool pages: %w", err)
		}
		ex := s.extents[leaf]
		if k := len(ex) - 1; k >= 0 && ex[k].off+ex[k].n == s.end {
			ex[k].n += int64(len(p))
		} else {
			s.extents[leaf] = append(ex, extent{s.end, int64(len(p))})
		}
		s.end += int64(len(p))
		s.sizes[leaf] += int64(len(p))
	}
	return nil
}

func (s *spoolStore) size(leaf int) int64 { return s.sizes[leaf] }
func (s *spoolStore) total() int64        { return s.end }

func (s *spoolStore) copyTo(w io.Writer, leaf int) error {
	if s.buf == nil {
		s.buf = make([]byte, 256<<10)
	}
	for _, e := range s.extents[leaf] {
		if _, err := io.CopyBuffer(w, io.NewSectionReader(s.f, e.off, e.n), s.buf); err != nil {
			return fmt.Errorf("copy spooled pages: %w", err)
		}
	}
	return nil
}

func (s *spoolStore) reset() {
	for i := range s.extents {
		s.extents[i] = s.extents[i][:0]
		s.sizes[i] = 0
	}
	s.end = 0
	_ = s.f.Truncate(0) // give the disk back; a failure only keeps the space
}

func (s *spoolStore) close() error {
	err := s.f.Close()
	if rerr := os.Remove(s.f.Name()); rerr != nil && err == nil {
		err = fmt.Errorf("spool pages: %w", rerr)
	}
	return err
}

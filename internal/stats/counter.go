package stats

// hashCounter counts rows per 64-bit hash: an open-addressing table with
// linear probing, used for the key sets instead of a Go map because it is
// counted once per row and column on the sync's hot path. The hashes come
// from maphash, so their low bits index the table directly. It grows by
// doubling when over three-quarters full; hash 0 (the empty-slot marker)
// is counted apart.
type hashCounter struct {
	slots []counterSlot // hash and count side by side: one cache miss per probe
	used  int           // occupied slots
	zero  int64         // rows of hash 0
}

type counterSlot struct {
	hash  uint64 // 0 marks an empty slot
	count int64
}

const hashCounterMinSlots = 1024

// add counts n more rows of hash h.
func (c *hashCounter) add(h uint64, n int64) {
	if h == 0 {
		c.zero += n
		return
	}
	if c.used >= len(c.slots)-len(c.slots)/4 {
		c.grow()
	}
	mask := uint64(len(c.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &c.slots[i]
		switch s.hash {
		case h:
			s.count += n
			return
		case 0:
			s.hash, s.count = h, n
			c.used++
			return
		}
	}
}

// has reports whether hash h was counted.
func (c *hashCounter) has(h uint64) bool {
	if h == 0 {
		return c.zero > 0
	}
	if len(c.slots) == 0 {
		return false
	}
	mask := uint64(len(c.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch c.slots[i].hash {
		case h:
			return true
		case 0:
			return false
		}
	}
}

// len is the number of distinct hashes.
func (c *hashCounter) len() int {
	if c.zero > 0 {
		return c.used + 1
	}
	return c.used
}

// each calls f with every hash and its row count.
func (c *hashCounter) each(f func(h uint64, n int64)) {
	if c.zero > 0 {
		f(0, c.zero)
	}
	for _, s := range c.slots {
		if s.hash != 0 {
			f(s.hash, s.count)
		}
	}
}

// merge adds o's counts. The table is sized for both first: filling a
// table in another's slot order while it grows would pile the entries
// into long probe runs.
func (c *hashCounter) merge(o *hashCounter) {
	c.reserve(c.used + o.used)
	o.each(c.add)
}

// reserve sizes the table to hold n hashes without growing.
func (c *hashCounter) reserve(n int) {
	size := max(len(c.slots), hashCounterMinSlots)
	for n >= size-size/4 {
		size *= 2
	}
	if size > len(c.slots) {
		c.resize(size)
	}
}

func (c *hashCounter) grow() {
	c.resize(max(2*len(c.slots), hashCounterMinSlots))
}

func (c *hashCounter) resize(n int) {
	old := *c
	*c = hashCounter{slots: make([]counterSlot, n), zero: old.zero}
	for _, s := range old.slots {
		if s.hash != 0 {
			c.add(s.hash, s.count)
		}
	}
}

// batchAdds is how many single-row adds a pendingCounter holds back.
const batchAdds = 256

// pendingCounter is a hashCounter that takes the sync's per-row adds in
// batches. The table of a key with many values (50k EANs: 2 MiB) does not
// stay in cache between two rows, whose encoding walks through megabytes
// of buffers: an add per row then costs a cache miss each (~160 ns in a
// 5M-row sync against 20 ns alone). Adds run back to back, the misses of
// a batch overlap.
type pendingCounter struct {
	hashCounter
	pending []uint64
}

// push counts one row of hash h, now or at the next flush.
func (c *pendingCounter) push(h uint64) {
	if c.pending == nil {
		c.pending = make([]uint64, 0, batchAdds)
	}
	c.pending = append(c.pending, h)
	if len(c.pending) == batchAdds {
		c.flush()
	}
}

// flush adds the held-back rows; the counts are complete after it.
func (c *pendingCounter) flush() {
	for _, h := range c.pending {
		c.add(h, 1)
	}
	c.pending = c.pending[:0]
}

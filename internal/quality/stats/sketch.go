package stats

import (
	"math/bits"

	"github.com/axiomhq/hyperloglog"
	metro "github.com/dgryski/go-metro"
)

const (
	// sketchPrecision is the precision of the distinct-count sketches: 2^14
	// registers, about 0.8% standard error.
	sketchPrecision = 14
	// sketchSeed is the seed hyperloglog.Sketch.Insert hashes with.
	sketchSeed = 1337
)

// pendingSketch is a dense HyperLogLog sketch kept as its registers, set
// exactly as hyperloglog.Sketch.Insert sets those of a dense sketch of the
// same precision: same hash, same register, same value (pinned by
// TestPendingSketch_SameAsInsert). sketch converts it for estimates and
// for the bytes the manifest keeps, which earlier versions built with
// Insert and later ones merge with.
//
// A value is inserted per row and column on the sync's hot path: a row
// only hashes its value, and the register updates wait for a batch, like
// pendingCounter's adds, since the registers leave the cache between two
// rows. Updating them here rather than through Sketch.InsertHash also
// saves a call and a sparse-form check per value.
type pendingSketch struct {
	regs    *[1 << sketchPrecision]uint8
	pending *[batchAdds]uint64
	n       int // pending hashes
}

func newPendingSketch() pendingSketch {
	return pendingSketch{regs: new([1 << sketchPrecision]uint8), pending: new([batchAdds]uint64)}
}

// push inserts v, now or at the next flush.
func (s *pendingSketch) push(v []byte) {
	s.pending[s.n] = metro.Hash64(v, sketchSeed)
	if s.n++; s.n == batchAdds {
		s.flush()
	}
}

// flush inserts the held-back values; the registers are complete after it.
func (s *pendingSketch) flush() {
	regs := s.regs
	for _, h := range s.pending[:s.n] {
		i, r := sketchRegister(h)
		regs[i] = max(regs[i], r)
	}
	s.n = 0
}

// sketchRegister is the register hash h sets and the value it offers: the
// top bits pick the register, the value is 1 + the leading zeros of the
// rest (a guard bit caps it).
func sketchRegister(h uint64) (i uint64, r uint8) {
	const p = sketchPrecision
	return h >> (64 - p), uint8(bits.LeadingZeros64(h<<p|1<<(p-1))) + 1
}

// sketchHash is a hash that sets register i to r (1 to 65-p) through
// sketchRegister: the inverse used to hand the registers to a Sketch.
func sketchHash(i uint64, r uint8) uint64 {
	const p = sketchPrecision
	h := i << (64 - p)
	if int(r) <= 64-p {
		h |= 1 << (64 - p - int(r))
	}
	return h
}

// merge keeps the larger register of s and o: the sketch of both streams.
func (s *pendingSketch) merge(o *pendingSketch) {
	for i, r := range o.regs {
		s.regs[i] = max(s.regs[i], r)
	}
}

// sketch returns the registers as a hyperloglog.Sketch.
func (s *pendingSketch) sketch() *hyperloglog.Sketch {
	sk, _ := hyperloglog.NewSketch(sketchPrecision, false)
	for i, r := range s.regs {
		if r > 0 {
			sk.InsertHash(sketchHash(uint64(i), r))
		}
	}
	return sk
}

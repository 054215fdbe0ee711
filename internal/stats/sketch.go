package stats

import (
	"github.com/axiomhq/hyperloglog"
)

// sketchPrecision is the precision of the distinct-count sketches: 2^14
// registers, about 0.8% standard error.
const sketchPrecision = 14

// pendingSketch is a dense hyperloglog.Sketch that takes the sync's
// per-row inserts in batches, like pendingCounter's adds: its registers
// leave the cache between two rows, and inserts run back to back overlap
// their misses. The values wait, copied, in a small arena; the sketch is
// exactly the one Insert of every value builds.
type pendingSketch struct {
	sk    *hyperloglog.Sketch
	arena []byte // the pending values, back to back
	ends  []int  // where each pending value ends in arena
}

func newPendingSketch() pendingSketch {
	sk, _ := hyperloglog.NewSketch(sketchPrecision, false) // dense: the sparse form is 10x slower to insert into
	return pendingSketch{sk: sk, arena: make([]byte, 0, batchAdds*16), ends: make([]int, 0, batchAdds)}
}

// push inserts v, now or at the next flush. v is copied.
func (s *pendingSketch) push(v []byte) {
	s.arena = append(s.arena, v...)
	s.ends = append(s.ends, len(s.arena))
	if len(s.ends) == batchAdds {
		s.flush()
	}
}

// flush inserts the held-back values; the sketch is complete after it.
func (s *pendingSketch) flush() {
	start := 0
	for _, end := range s.ends {
		s.sk.Insert(s.arena[start:end])
		start = end
	}
	s.arena, s.ends = s.arena[:0], s.ends[:0]
}

// merge adds o's values (flushed) to s: the sketch of both.
func (s *pendingSketch) merge(o *pendingSketch) {
	_ = s.sk.Merge(o.sk) // same precision by construction
}

// sketch is the flushed sketch; callers read it, never change it.
func (s *pendingSketch) sketch() *hyperloglog.Sketch { return s.sk }

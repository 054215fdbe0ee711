package stats

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/axiomhq/hyperloglog"
)

// A pendingSketch must hold what hyperloglog's own dense sketch holds after
// Insert of the same values: the same bytes in the manifest, the same
// estimate, mergeable with sketches of earlier versions.
func TestPendingSketch_SameAsInsert(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{0, 1, 255, 256, 257, 5000, 300_000} {
		want, _ := hyperloglog.NewSketch(sketchPrecision, false)
		got := newPendingSketch()
		for i := range n {
			v := []byte(strconv.Itoa(r.IntN(n)))
			if i%7 == 0 {
				v = make([]byte, r.IntN(40)) // every length class of the hash, the empty value too
				for k := range v {
					v[k] = byte(r.Uint32())
				}
			}
			want.Insert(v)
			got.push(v)
		}
		got.flush()
		wantBytes, _ := want.MarshalBinary()
		gotBytes, _ := got.sketch().MarshalBinary()
		if !bytes.Equal(gotBytes, wantBytes) {
			t.Errorf("%d values: the registers differ from Insert's", n)
		}
		if got.sketch().Estimate() != want.Estimate() {
			t.Errorf("%d values: estimate %d, Insert's %d", n, got.sketch().Estimate(), want.Estimate())
		}
	}
}

// sketchHash must set exactly the register and value asked, for every
// value a register can hold (up to 51 at precision 14, never reached by
// real hashes in a test).
func TestSketchHash_InvertsSketchRegister(t *testing.T) {
	t.Parallel()
	for _, i := range []uint64{0, 1, 8191, 1<<sketchPrecision - 1} {
		for r := uint8(1); r <= 65-sketchPrecision; r++ {
			if gi, gr := sketchRegister(sketchHash(i, r)); gi != i || gr != r {
				t.Errorf("sketchRegister(sketchHash(%d, %d)) = %d, %d", i, r, gi, gr)
			}
			var s pendingSketch
			s.regs = new([1 << sketchPrecision]uint8)
			s.regs[i] = r
			want, _ := hyperloglog.NewSketch(sketchPrecision, false)
			want.InsertHash(sketchHash(i, r))
			gotBytes, _ := s.sketch().MarshalBinary()
			wantBytes, _ := want.MarshalBinary()
			if !bytes.Equal(gotBytes, wantBytes) {
				t.Errorf("register %d = %d: not the sketch InsertHash makes", i, r)
			}
		}
	}
}

// Merging workers' sketches must give the sketch of all their values.
func TestPendingSketch_MergeIsInsertOfBoth(t *testing.T) {
	t.Parallel()
	a, b := newPendingSketch(), newPendingSketch()
	want, _ := hyperloglog.NewSketch(sketchPrecision, false)
	for i := range 20_000 {
		v := []byte(strconv.Itoa(i))
		want.Insert(v)
		if i%3 == 0 {
			a.push(v)
		} else {
			b.push(v)
		}
	}
	a.flush()
	b.flush()
	a.merge(&b)
	gotBytes, _ := a.sketch().MarshalBinary()
	wantBytes, _ := want.MarshalBinary()
	if !bytes.Equal(gotBytes, wantBytes) {
		t.Error("merged registers differ from one sketch of every value")
	}
}

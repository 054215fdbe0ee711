package stats

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/axiomhq/hyperloglog"
)

// A pendingSketch must hold what hyperloglog's own dense sketch holds after
// Insert of the same values, across batch boundaries: the same bytes in the
// manifest, the same estimate, mergeable with sketches of earlier versions.
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

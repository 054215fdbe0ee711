package stats

import "math/bits"

// numStats summarises one numeric column.
type numStats struct {
	count      int64
	sum        exactSum
	fsum       float64
	min, max   num
	fmin, fmax float64
	negatives  int64
	above      []int64 // one count per threshold; allocated by NewWorker
	below      []int64
}

func (s *numStats) observeMinMax(n num) {
	if s.count == 0 || n.cmp(s.min) < 0 {
		s.min = n
	}
	if s.count == 0 || n.cmp(s.max) > 0 {
		s.max = n
	}
}

func (s *numStats) observe(n num, above, below []num) {
	if n.big == nil && s.min.big == nil && s.max.big == nil && s.count > 0 {
		// The common case: everything fits an int64.
		switch {
		case n.small < s.min.small:
			s.min = n
		case n.small > s.max.small:
			s.max = n
		}
	} else {
		s.observeMinMax(n)
	}
	s.count++
	s.sum.add(n)
	if n.sign() < 0 {
		s.negatives++
	}
	for k, t := range above {
		if t.less(n) {
			s.above[k]++
		}
	}
	for k, t := range below {
		if n.less(t) {
			s.below[k]++
		}
	}
}

func (s *numStats) observeFloat(f float64, above, below []float64) {
	if s.count == 0 || f < s.fmin {
		s.fmin = f
	}
	if s.count == 0 || f > s.fmax {
		s.fmax = f
	}
	s.count++
	s.fsum += f
	if f < 0 {
		s.negatives++
	}
	for k, t := range above {
		if f > t {
			s.above[k]++
		}
	}
	for k, t := range below {
		if f < t {
			s.below[k]++
		}
	}
}

// pendingNumbers holds back the int64 values of one numeric column until
// flush summarises them, up to batchAdds at a time: min and max, the sum,
// the negatives and each threshold are then a pass of a few instructions
// per value over values in cache, instead of an update per row of a
// summary the sync's other work has evicted.
type pendingNumbers struct {
	n  int // first: on the cache line of the first values
	xs [batchAdds]int64
}

// push holds back x; the caller flushes before batchAdds values.
func (p *pendingNumbers) push(x int64) {
	p.xs[p.n] = x
	p.n++
}

// flush adds the held-back values to s, whose thresholds above and below
// fit an int64.
func (p *pendingNumbers) flush(s *numStats, above, below []int64) {
	xs := p.xs[:p.n]
	p.n = 0
	if len(xs) == 0 {
		return
	}
	lo, hi := xs[0], xs[0]
	var sumHi, sumLo uint64 // a 128-bit sum: batchAdds int64s cannot overflow it
	var negatives int64
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
		var carry uint64
		sumLo, carry = bits.Add64(sumLo, uint64(x), 0)
		sumHi += uint64(x>>63) + carry // x's sign extension, and the carry
		negatives += int64(uint64(x) >> 63)
	}
	switch {
	case s.count == 0:
		s.min, s.max = num{small: lo}, num{small: hi}
	case s.min.big != nil || s.max.big != nil:
		s.observeMinMax(num{small: lo})
		s.observeMinMax(num{small: hi})
	default:
		s.min.small, s.max.small = min(s.min.small, lo), max(s.max.small, hi)
	}
	s.count += int64(len(xs))
	s.sum.addWide(sumHi, sumLo)
	s.negatives += negatives
	for k, t := range above {
		s.above[k] += countIf(xs, func(x int64) bool { return x > t })
	}
	for k, t := range below {
		s.below[k] += countIf(xs, func(x int64) bool { return x < t })
	}
}

func countIf(xs []int64, f func(int64) bool) int64 {
	var n int64
	for _, x := range xs {
		if f(x) {
			n++
		}
	}
	return n
}

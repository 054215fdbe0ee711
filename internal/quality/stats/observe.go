package stats

import (
	"bytes"
	"hash/maphash"
	"math"
	"strconv"
)

// Observe adds one row, in the reader's form: every column in table order,
// MySQL text, nil for NULL. It keeps nothing that aliases row. A nil
// Worker (quality checks off) does nothing.
//
// It runs once per synced row, so the plan is resolved into slices up
// front and each value is parsed at most once.
func (w *Worker) Observe(row [][]byte) {
	if w == nil {
		return
	}
	p := &w.g.plan
	w.rows++
	nulls := w.nulls[:len(row)]
	for i, v := range row {
		if v == nil {
			nulls[i]++
		}
	}
	for k := range p.numCols {
		c := &p.numCols[k]
		if v := row[c.col]; v != nil {
			w.observeNumber(c, v)
		}
	}
	for _, i := range p.temporal {
		v := row[i]
		if v == nil {
			continue
		}
		if isZeroDate(v) { // written as NULL, so counted as one
			w.nulls[i]++
			continue
		}
		w.texts[i].observe(v)
		if p.future[i] && len(v) >= 10 && bytes.Compare(v[:10], p.after) > 0 {
			w.future[i]++
		}
	}
	for j, i := range p.distinct {
		if v := row[i]; v != nil {
			w.hll[j].Insert(v)
		}
	}
	if len(p.unique) > 0 {
		w.observeKey(row)
	}
	for j, i := range p.keys {
		if v := row[i]; v != nil {
			w.keys[j].push(maphash.Bytes(w.g.seed, v))
		}
	}
	for j := range p.daily {
		w.observeDaily(j, p.daily[j], row)
	}
}

func isZeroDate(v []byte) bool {
	return len(v) >= 10 && string(v[:10]) == "0000-00-00"
}

// observeNumber parses and summarises v, a value of column c, and keeps
// the parsed value for the daily totals of the same row.
func (w *Worker) observeNumber(c *numCol, v []byte) {
	s := &w.nums[c.col]
	if c.float {
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.IsNaN(f) {
			w.bad[c.col]++
			return
		}
		s.observeFloat(f, c.aboveF, c.belowF)
		return
	}
	n, ok := parseUnscaled(v, c.scale)
	w.parsed[c.col], w.parsedOK[c.col] = n, ok
	if !ok {
		w.bad[c.col]++
		return
	}
	s.observe(n, c.above, c.below)
}

func (w *Worker) observeKey(row [][]byte) {
	w.hash.Reset()
	for _, i := range w.g.plan.unique {
		v := row[i]
		if v == nil {
			return // a NULL key is not a duplicate of anything
		}
		w.hash.Write(v)
		w.hash.WriteByte(0)
	}
	w.keyRows++
	w.unique.push(w.hash.Sum64())
}

func (w *Worker) observeDaily(j int, d dailyPlan, row [][]byte) {
	v, day := row[d.value], row[d.date]
	if v == nil || day == nil || len(day) < 10 || isZeroDate(day) {
		return
	}
	var n num
	if d.parsed {
		if !w.parsedOK[d.value] {
			return
		}
		n = w.parsed[d.value]
	} else {
		var ok bool
		if n, ok = parseUnscaled(v, w.g.plan.scales[d.value]); !ok {
			return
		}
	}
	w.daily[j].add(day, n)
}

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
		if s.count == 0 || n.cmp(s.min) < 0 {
			s.min = n
		}
		if s.count == 0 || n.cmp(s.max) > 0 {
			s.max = n
		}
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

// textStats keeps the min and max of a temporal column by text order,
// which is time order for MySQL's fixed-width date forms.
type textStats struct {
	seen     bool
	min, max []byte
}

func (s *textStats) observe(v []byte) {
	switch {
	case !s.seen:
		s.min = append(s.min[:0], v...)
		s.max = append(s.max[:0], v...)
		s.seen = true
	case bytes.Compare(v, s.min) < 0:
		s.min = append(s.min[:0], v...)
	case bytes.Compare(v, s.max) > 0:
		s.max = append(s.max[:0], v...)
	}
}

package stats

import (
	"hash/maphash"
	"math"
	"strconv"
)

// Observe adds one row, in the reader's form: every column in table order,
// MySQL text, nil for NULL. It keeps nothing that aliases row. A nil
// Worker (quality checks off) does nothing.
//
// It runs once per synced row, so the plan is resolved into slices up
// front, each value is parsed at most once, and what can wait (numeric
// summaries, sketch and key-set updates) is held back as plain integers
// and done batchAdds rows at a time: in the sync, the encoder's buffers
// evict this state between two rows, and a tight loop over a batch does
// the work of many rows at once. Add flushes what is held back.
func (w *Worker) Observe(row [][]byte) {
	if w == nil {
		return
	}
	w.rows++
	nulls := w.nulls[:len(row)]
	for i, v := range row {
		if v == nil {
			nulls[i]++
		}
	}
	w.observeNumbers(row)
	w.observeDates(row)
	p := &w.g.plan
	for j, i := range p.distinct {
		if v := row[i]; v != nil {
			w.hll[j].push(v)
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
	for _, j := range p.apart {
		w.observeDaily(j, p.daily[j], row)
	}
}

// observeNumbers parses the numeric columns of row. A value in MySQL's
// exact form that fits an int64 is held back for its column's next batch
// and added to its daily totals now (their day is in row); anything else
// is summarised at once.
func (w *Worker) observeNumbers(row [][]byte) {
	p := &w.g.plan
	for k := range p.numCols {
		c := &p.numCols[k]
		v := row[c.col]
		if v == nil {
			continue
		}
		if c.small {
			if x, ok := parseFixed(v, c.scale); ok {
				w.numPending[k].push(x)
				for _, d := range c.daily {
					if day := row[d.date]; isDay(day) {
						w.daily[d.plan].addSmall(day, x)
					}
				}
				continue
			}
		}
		w.observeOther(c, v, row)
	}
	// A column holds at most one value per row: counting rows bounds
	// every column's batch with one check.
	if w.numRows++; w.numRows == batchAdds {
		w.flushNumbers()
	}
}

// flushNumbers summarises the numbers held back.
func (w *Worker) flushNumbers() {
	for k := range w.numPending {
		c := &w.g.plan.numCols[k]
		w.numPending[k].flush(&w.nums[c.col], c.smallAbove, c.smallBelow)
	}
	w.numRows = 0
}

// observeOther summarises a numeric value that is not held back: FLOAT
// and DOUBLE values, those of a column with a threshold beyond int64, and
// text not in parseFixed's form (values beyond 18 digits).
func (w *Worker) observeOther(c *numCol, v []byte, row [][]byte) {
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
	if !ok {
		w.bad[c.col]++
		return
	}
	s.observe(n, c.above, c.below)
	for _, d := range c.daily {
		if day := row[d.date]; isDay(day) {
			w.daily[d.plan].add(day, n)
		}
	}
}

// observeDates keeps the min and max of the temporal columns of row and
// counts their future dates.
func (w *Worker) observeDates(row [][]byte) {
	p := &w.g.plan
	for _, i := range p.temporal {
		v := row[i]
		if v == nil {
			continue
		}
		if isZeroDate(v) { // written as NULL: counted by the encoder, added to Nulls by the syncer
			continue
		}
		k, _ := textKeyOf(v)
		w.texts[i].observeKey(v, k)
		if p.future[i] && len(v) >= 10 {
			if k.n != 10 {
				k, _ = textKeyOf(v[:10])
			}
			if p.afterKey.less(k) {
				w.future[i]++
			}
		}
	}
}

// isZeroDate reports a zero or partial zero date ("0000-00-00",
// "2025-00-10"): it names no day, so it is neither a minimum nor a maximum.
func isZeroDate(v []byte) bool {
	return len(v) >= 10 && (v[5] == '0' && v[6] == '0' || v[8] == '0' && v[9] == '0')
}

// isDay reports whether v, a date column's value, names a day.
func isDay(v []byte) bool {
	return len(v) >= 10 && !isZeroDate(v)
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

// observeDaily adds the value of a daily plan whose column is not
// summarised, so was not parsed by observeNumbers.
func (w *Worker) observeDaily(j int, d dailyPlan, row [][]byte) {
	v, day := row[d.value], row[d.date]
	if v == nil || !isDay(day) {
		return
	}
	n, ok := parseUnscaled(v, w.g.plan.scales[d.value])
	if !ok {
		return
	}
	w.daily[j].add(day, n)
}

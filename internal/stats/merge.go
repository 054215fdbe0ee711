package stats

import (
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// Add merges a finished Worker into the stream's totals. Workers of
// several goroutines may be added concurrently; w must not be used after.
func (g *Gatherer) Add(w *Worker) {
	if w == nil || w == g.total {
		return
	}
	w.flush()
	g.mu.Lock()
	defer g.mu.Unlock()
	t := g.total
	t.rows += w.rows
	for i := range w.nulls {
		t.nulls[i] += w.nulls[i]
		t.bad[i] += w.bad[i]
		t.future[i] += w.future[i]
		t.nums[i].merge(&w.nums[i])
		if w.texts[i].seen {
			t.texts[i].observe(w.texts[i].min)
			t.texts[i].observe(w.texts[i].max)
		}
	}
	for j := range w.hll {
		t.hll[j].merge(&w.hll[j])
	}
	t.unique.merge(&w.unique.hashCounter)
	t.keyRows += w.keyRows
	for j := range w.keys {
		t.keys[j].merge(&w.keys[j].hashCounter)
	}
	for j := range w.daily {
		t.daily[j].merge(&w.daily[j])
	}
}

// flush completes the state Observe batches: every read of a Worker's
// statistics goes through Add, which calls it first.
func (w *Worker) flush() {
	w.flushNumbers()
	w.unique.flush()
	for j := range w.keys {
		w.keys[j].flush()
	}
	for j := range w.hll {
		w.hll[j].flush()
	}
}

func (s *numStats) merge(o *numStats) {
	if o.count == 0 {
		return
	}
	if s.count == 0 || o.min.cmp(s.min) < 0 {
		s.min = o.min
	}
	if s.count == 0 || o.max.cmp(s.max) > 0 {
		s.max = o.max
	}
	if s.count == 0 || o.fmin < s.fmin {
		s.fmin = o.fmin
	}
	if s.count == 0 || o.fmax > s.fmax {
		s.fmax = o.fmax
	}
	s.count += o.count
	s.sum.merge(&o.sum)
	s.fsum += o.fsum
	s.negatives += o.negatives
	s.above = addCounts(s.above, o.above)
	s.below = addCounts(s.below, o.below)
}

func addCounts(a, b []int64) []int64 {
	if a == nil && b != nil {
		a = make([]int64, len(b))
	}
	for i := range b {
		a[i] += b[i]
	}
	return a
}

// Result is the statistics of every Worker added so far.
func (g *Gatherer) Result() *Stream {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, p := g.total, &g.plan
	out := &Stream{Rows: t.rows, Columns: make([]Column, len(g.table.Columns))}
	for i, c := range g.table.Columns {
		col := Column{Name: c.Name, Kind: p.kinds[i], Nulls: t.nulls[i], Future: t.future[i]}
		n := &t.nums[i]
		switch {
		case p.kinds[i] == KindFloat && n.count > 0:
			col.Min, col.Max = formatFloat(n.fmin), formatFloat(n.fmax)
			col.Sum = formatFloat(n.fsum)
		case p.kinds[i].Numeric() && n.count > 0:
			col.Min, col.Max = formatScaled(n.min.bigInt(), p.scales[i]), formatScaled(n.max.bigInt(), p.scales[i])
			col.Sum = formatScaled(n.sum.value(), p.scales[i])
		case p.kinds[i].Numeric() && slices.Contains(p.numeric, i):
			col.Sum = formatScaled(new(big.Int), p.scales[i])
		case t.texts[i].seen:
			col.Min, col.Max = string(t.texts[i].min), string(t.texts[i].max)
		}
		col.Negatives = n.negatives
		col.Above = thresholdCounts(g.spec.Above, c.Name, n.above)
		col.Below = thresholdCounts(g.spec.Below, c.Name, n.below)
		out.Columns[i] = col
	}
	for j, i := range p.distinct {
		sk := t.hll[j].sketch()
		out.Columns[i].Distinct = sk.Estimate()
		out.Columns[i].Sketch, _ = sk.MarshalBinary()
	}
	if len(p.unique) > 0 {
		out.Unique = &Unique{Key: g.spec.Unique, Distinct: int64(t.unique.len()), Duplicate: t.keyRows - int64(t.unique.len())}
	}
	for j, i := range p.keys {
		if out.KeyCounts == nil {
			out.KeyCounts = map[string]int64{}
		}
		out.KeyCounts[g.table.Columns[i].Name] = int64(t.keys[j].len())
	}
	if p.after != nil {
		out.FutureAfter = g.spec.FutureAfter
	}
	for j, d := range p.daily {
		dt := DailyTotal{Value: g.table.Columns[d.value].Name, Date: g.table.Columns[d.date].Name, Totals: map[string]string{}}
		t.daily[j].each(func(day dayKey, s *exactSum) {
			dt.Totals[day.String()] = formatScaled(s.value(), p.scales[d.value])
		})
		out.DailyTotals = append(out.DailyTotals, dt)
	}
	return out
}

// thresholdCounts pairs the spec's thresholds of column with their counts.
func thresholdCounts(spec map[string][]string, column string, counts []int64) map[string]int64 {
	var ts []string
	for name, v := range spec {
		if strings.EqualFold(name, column) {
			ts = v
		}
	}
	if len(ts) == 0 {
		return nil
	}
	out := make(map[string]int64, len(ts))
	for k, t := range ts {
		var n int64
		if k < len(counts) {
			n = counts[k]
		}
		out[t] = n
	}
	return out
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// KeySet is the in-memory value set of one Spec.Keys column: 64-bit hashes
// (seeded once per process, so comparable between the streams of a job
// but never persisted) with the
// number of rows holding each value. False matches need a hash collision:
// under 1e-7 at a million distinct values.
type KeySet struct {
	counts *hashCounter
}

// Keys returns the merged key set of column, or nil when it was not in
// Spec.Keys. The Gatherer must not receive more rows afterwards.
func (g *Gatherer) Keys(column string) *KeySet {
	g.mu.Lock()
	defer g.mu.Unlock()
	for j, i := range g.plan.keys {
		if strings.EqualFold(g.table.Columns[i].Name, column) {
			return &KeySet{counts: &g.total.keys[j].hashCounter}
		}
	}
	return nil
}

// Len is the number of distinct values.
func (k *KeySet) Len() int { return k.counts.len() }

// Missing counts the values of k absent from ref, and the rows holding
// them.
func (k *KeySet) Missing(ref *KeySet) (values, rows int64) {
	k.counts.each(func(h uint64, n int64) {
		if !ref.counts.has(h) {
			values++
			rows += n
		}
	})
	return values, rows
}

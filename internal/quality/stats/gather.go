package stats

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"sync"

	"github.com/axiomhq/hyperloglog"

	"github.com/acode-dev/acode/internal/schema"
)

// Gatherer collects one stream's statistics from several read workers: each
// worker observes rows into its own Worker, and Add merges a finished
// Worker under a lock, so the per-row path takes none.
type Gatherer struct {
	table schema.Table
	spec  Spec
	plan  plan
	seed  maphash.Seed

	mu    sync.Mutex
	total *Worker
}

// processSeed seeds every key hash of this process, so that the key sets
// of two streams of a job can be compared.
var processSeed = maphash.MakeSeed()

// plan is the resolved Spec: column indexes and parsed thresholds.
type plan struct {
	kinds    []Kind
	scales   []int
	numeric  []int
	temporal []int
	distinct []int
	unique   []int
	keys     []int
	future   map[int]bool
	above    map[int][]num
	below    map[int][]num
	aboveF   map[int][]float64
	belowF   map[int][]float64
	daily    []dailyPlan
	after    []byte
}

type dailyPlan struct{ value, date int }

// NewGatherer resolves spec against the table; an unknown column or a bad
// threshold is an error, reported before any row is read.
func NewGatherer(t schema.Table, spec Spec) (*Gatherer, error) {
	p := plan{kinds: make([]Kind, len(t.Columns)), scales: make([]int, len(t.Columns)), future: map[int]bool{},
		above: map[int][]num{}, below: map[int][]num{}, aboveF: map[int][]float64{}, belowF: map[int][]float64{}}
	for i, c := range t.Columns {
		p.kinds[i] = KindOf(c)
		if p.kinds[i] == KindDecimal {
			p.scales[i] = c.Scale
		}
	}
	if err := p.summarize(t, spec); err != nil {
		return nil, err
	}
	var err error
	if p.distinct, err = columnIndex(t, spec.Distinct, "distinct"); err != nil {
		return nil, err
	}
	if p.unique, err = columnIndex(t, spec.Unique, "unique key"); err != nil {
		return nil, err
	}
	if p.keys, err = columnIndex(t, spec.Keys, "key set"); err != nil {
		return nil, err
	}
	future, err := columnIndex(t, spec.Future, "future dates")
	if err != nil {
		return nil, err
	}
	for _, i := range future {
		if !p.kinds[i].Temporal() {
			return nil, fmt.Errorf("future dates: column %s of %s is %s, not a date", t.Columns[i].Name, t.Name, p.kinds[i])
		}
		p.future[i] = true
	}
	if len(future) > 0 {
		if len(spec.FutureAfter) != 10 {
			return nil, fmt.Errorf("future dates: cutoff %q is not YYYY-MM-DD", spec.FutureAfter)
		}
		p.after = []byte(spec.FutureAfter)
	}
	if err := p.thresholds(t, spec.Above, true); err != nil {
		return nil, err
	}
	if err := p.thresholds(t, spec.Below, false); err != nil {
		return nil, err
	}
	for _, d := range spec.DailyTotals {
		idx, err := columnIndex(t, []string{d.Value, d.Date}, "daily total")
		if err != nil {
			return nil, err
		}
		if !p.kinds[idx[0]].Numeric() || p.kinds[idx[0]] == KindFloat || !p.kinds[idx[1]].Temporal() {
			return nil, fmt.Errorf("daily total: %s must be an integer or DECIMAL column and %s a date", d.Value, d.Date)
		}
		p.daily = append(p.daily, dailyPlan{value: idx[0], date: idx[1]})
	}
	g := &Gatherer{table: t, spec: spec, plan: p, seed: processSeed}
	g.total = g.NewWorker()
	return g, nil
}

// summarize picks the columns that are parsed: those listed in
// Spec.Summarize and those a threshold or a future-date count needs.
func (p *plan) summarize(t schema.Table, spec Spec) error {
	names := append([]string{}, spec.Summarize...)
	names = append(names, spec.Future...)
	for _, m := range []map[string][]string{spec.Above, spec.Below} {
		for c := range m {
			names = append(names, c)
		}
	}
	idx, err := columnIndex(t, names, "summarize")
	if err != nil {
		return err
	}
	seen := map[int]bool{}
	for _, i := range idx {
		if seen[i] {
			continue
		}
		seen[i] = true
		switch k := p.kinds[i]; {
		case k.Numeric():
			p.numeric = append(p.numeric, i)
		case k.Temporal():
			p.temporal = append(p.temporal, i)
		}
	}
	return nil
}

func (p *plan) thresholds(t schema.Table, m map[string][]string, above bool) error {
	for name, ts := range m {
		idx, err := columnIndex(t, []string{name}, "threshold")
		if err != nil {
			return err
		}
		i := idx[0]
		if !p.kinds[i].Numeric() {
			return fmt.Errorf("threshold on %s of %s: the column is %s, not numeric", name, t.Name, p.kinds[i])
		}
		for _, s := range ts {
			if p.kinds[i] == KindFloat {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return fmt.Errorf("threshold %q on %s is not a number", s, name)
				}
				if above {
					p.aboveF[i] = append(p.aboveF[i], f)
				} else {
					p.belowF[i] = append(p.belowF[i], f)
				}
				continue
			}
			n, err := thresholdAt(s, p.scales[i], above)
			if err != nil {
				return fmt.Errorf("threshold on %s: %w", name, err)
			}
			if above {
				p.above[i] = append(p.above[i], n)
			} else {
				p.below[i] = append(p.below[i], n)
			}
		}
	}
	return nil
}

// Worker gathers the rows one read worker encodes. It is not safe for
// concurrent use: each worker has its own.
type Worker struct {
	g        *Gatherer
	rows     int64
	nulls    []int64
	bad      []int64 // values that did not parse (never expected from MySQL)
	nums     []numStats
	texts    []textStats
	hll      []*hyperloglog.Sketch
	unique   map[uint64]struct{}
	keyRows  int64 // rows with a non-NULL unique key
	keys     []map[uint64]int64
	future   []int64
	daily    []map[string]*exactSum
	hash     maphash.Hash
	keyBytes []byte
}

// NewWorker returns an empty Worker for one read worker.
func (g *Gatherer) NewWorker() *Worker {
	n := len(g.table.Columns)
	w := &Worker{g: g, nulls: make([]int64, n), bad: make([]int64, n), future: make([]int64, n),
		nums: make([]numStats, n), texts: make([]textStats, n)}
	w.hash.SetSeed(g.seed)
	for range g.plan.distinct {
		sk, _ := hyperloglog.NewSketch(14, false) // dense: the sparse form is 10x slower to insert into
		w.hll = append(w.hll, sk)
	}
	if len(g.plan.unique) > 0 {
		w.unique = map[uint64]struct{}{}
	}
	for range g.plan.keys {
		w.keys = append(w.keys, map[uint64]int64{})
	}
	for range g.plan.daily {
		w.daily = append(w.daily, map[string]*exactSum{})
	}
	return w
}

// Observe adds one row, in the reader's form: every column in table order,
// MySQL text, nil for NULL. It keeps nothing that aliases row. A nil
// Worker (quality checks off) does nothing.
func (w *Worker) Observe(row [][]byte) {
	if w == nil {
		return
	}
	p := &w.g.plan
	w.rows++
	for i, v := range row {
		if v == nil {
			w.nulls[i]++
		}
	}
	for _, i := range p.numeric {
		if v := row[i]; v != nil {
			w.observeNumber(i, v)
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
			w.keys[j][maphash.Bytes(w.g.seed, v)]++
		}
	}
	for j, d := range p.daily {
		w.observeDaily(j, d, row)
	}
}

func isZeroDate(v []byte) bool {
	return len(v) >= 10 && string(v[:10]) == "0000-00-00"
}

func (w *Worker) observeNumber(i int, v []byte) {
	p := &w.g.plan
	s := &w.nums[i]
	if p.kinds[i] == KindFloat {
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.IsNaN(f) {
			w.bad[i]++
			return
		}
		s.observeFloat(f, p.aboveF[i], p.belowF[i])
		return
	}
	n, ok := parseUnscaled(v, p.scales[i])
	if !ok {
		w.bad[i]++
		return
	}
	s.observe(n, p.above[i], p.below[i])
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
	w.unique[w.hash.Sum64()] = struct{}{}
}

func (w *Worker) observeDaily(j int, d dailyPlan, row [][]byte) {
	v, day := row[d.value], row[d.date]
	if v == nil || day == nil || len(day) < 10 || isZeroDate(day) {
		return
	}
	n, ok := parseUnscaled(v, w.g.plan.scales[d.value])
	if !ok {
		return
	}
	acc := w.daily[j][string(day[:10])]
	if acc == nil {
		acc = &exactSum{}
		w.daily[j][string(day[:10])] = acc
	}
	acc.add(n)
}

// numStats summarises one numeric column.
type numStats struct {
	count      int64
	sum        exactSum
	fsum       float64
	min, max   num
	fmin, fmax float64
	negatives  int64
	above      []int64
	below      []int64
}

func (s *numStats) observe(n num, above, below []num) {
	if s.count == 0 || n.cmp(s.min) < 0 {
		s.min = n
	}
	if s.count == 0 || n.cmp(s.max) > 0 {
		s.max = n
	}
	s.count++
	s.sum.add(n)
	if n.sign() < 0 {
		s.negatives++
	}
	if len(above) > 0 && s.above == nil {
		s.above = make([]int64, len(above))
	}
	for k, t := range above {
		if n.cmp(t) > 0 {
			s.above[k]++
		}
	}
	if len(below) > 0 && s.below == nil {
		s.below = make([]int64, len(below))
	}
	for k, t := range below {
		if n.cmp(t) < 0 {
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
	if len(above) > 0 && s.above == nil {
		s.above = make([]int64, len(above))
	}
	for k, t := range above {
		if f > t {
			s.above[k]++
		}
	}
	if len(below) > 0 && s.below == nil {
		s.below = make([]int64, len(below))
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
	if !s.seen || bytes.Compare(v, s.min) < 0 {
		s.min = append(s.min[:0], v...)
	}
	if !s.seen || bytes.Compare(v, s.max) > 0 {
		s.max = append(s.max[:0], v...)
	}
	s.seen = true
}

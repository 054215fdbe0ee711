package stats

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"sync"

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
	numCols  []numCol // the numeric columns, resolved for the row loop
	temporal []int
	distinct []int
	unique   []int
	keys     []int
	future   []bool // by column: future dates counted
	above    map[int][]num
	below    map[int][]num
	aboveF   map[int][]float64
	belowF   map[int][]float64
	daily    []dailyPlan
	apart    []int // the daily plans whose value column is parsed for them alone
	after    []byte
	afterKey textKey // after, for comparing dates without bytes.Compare
}

// numCol is how one numeric column is observed. The fields a row reads
// come first, to share cache lines.
type numCol struct {
	col   int
	scale int
	float bool
	// small says the column is not a float and every threshold fits an
	// int64: smallAbove and smallBelow then hold them.
	small                  bool
	smallAbove, smallBelow []int64
	daily                  []dailyRef // the daily plans summing this column
	above, below           []num
	aboveF, belowF         []float64
}

// dailyRef is a daily plan of a numeric column: its index in plan.daily
// and its date column.
type dailyRef struct {
	plan, date int
}

// dailyPlan sums column value per day of column date; parsed says the
// value column is among the numeric ones, so its parsed value is reused.
type dailyPlan struct {
	value, date int
	parsed      bool
}

// NewGatherer resolves spec against the table; an unknown column or a bad
// threshold is an error, reported before any row is read.
func NewGatherer(t schema.Table, spec Spec) (*Gatherer, error) {
	p := plan{kinds: make([]Kind, len(t.Columns)), scales: make([]int, len(t.Columns)), future: make([]bool, len(t.Columns)),
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
		p.afterKey, _ = textKeyOf(p.after)
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
		p.daily = append(p.daily, dailyPlan{value: idx[0], date: idx[1], parsed: slices.Contains(p.numeric, idx[0])})
	}
	for _, i := range p.numeric {
		p.numCols = append(p.numCols, p.numCol(i))
	}
	for j, d := range p.daily {
		if !d.parsed {
			p.apart = append(p.apart, j)
		}
	}
	g := &Gatherer{table: t, spec: spec, plan: p, seed: processSeed}
	g.total = g.NewWorker()
	return g, nil
}

// numCol resolves how numeric column i is observed.
func (p *plan) numCol(i int) numCol {
	c := numCol{col: i, float: p.kinds[i] == KindFloat, scale: p.scales[i],
		above: p.above[i], below: p.below[i], aboveF: p.aboveF[i], belowF: p.belowF[i]}
	above, aboveOK := smallThresholds(c.above)
	below, belowOK := smallThresholds(c.below)
	c.smallAbove, c.smallBelow, c.small = above, below, aboveOK && belowOK && !c.float
	for j, d := range p.daily {
		if d.parsed && d.value == i {
			c.daily = append(c.daily, dailyRef{plan: j, date: d.date})
		}
	}
	return c
}

// smallThresholds returns ts as int64s, or false when one does not fit.
func smallThresholds(ts []num) ([]int64, bool) {
	var out []int64
	for _, t := range ts {
		if t.big != nil {
			return nil, false
		}
		out = append(out, t.small)
	}
	return out, true
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
	g          *Gatherer
	rows       int64
	nulls      []int64
	bad        []int64 // values that did not parse (never expected from MySQL)
	nums       []numStats
	texts      []textStats
	hll        []pendingSketch
	unique     pendingCounter // hashes of the unique key; counts unused
	keyRows    int64          // rows with a non-NULL unique key
	keys       []pendingCounter
	future     []int64
	daily      []dailySums
	numPending []pendingNumbers // by plan.numCols: values held back
	numRows    int              // rows since the numbers were flushed
	hash       maphash.Hash
}

// NewWorker returns an empty Worker for one read worker.
func (g *Gatherer) NewWorker() *Worker {
	n := len(g.table.Columns)
	w := &Worker{g: g, nulls: make([]int64, n), bad: make([]int64, n), future: make([]int64, n),
		nums: make([]numStats, n), texts: make([]textStats, n)}
	w.hash.SetSeed(g.seed)
	for range g.plan.distinct {
		w.hll = append(w.hll, newPendingSketch())
	}
	w.keys = make([]pendingCounter, len(g.plan.keys))
	w.daily = make([]dailySums, len(g.plan.daily))
	w.numPending = make([]pendingNumbers, len(g.plan.numCols))
	for _, c := range g.plan.numCols {
		w.nums[c.col].above = make([]int64, max(len(c.above), len(c.aboveF)))
		w.nums[c.col].below = make([]int64, max(len(c.below), len(c.belowF)))
	}
	return w
}

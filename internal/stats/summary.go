package stats

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// ErrSummaryMismatch is returned by AddSummary when a summary was gathered
// under another Spec (a replica with other rules): merging it would mix
// counts of different thresholds, so the caller treats its rows as unseen.
var ErrSummaryMismatch = errors.New("statistics summary gathered under another spec")

// Summary is the mergeable part of one Worker's statistics: what the rules
// that need every row read (the row count, per column the NULLs, min, max,
// exact sum, negatives, threshold and future-date counts, and the exact
// daily totals). It travels with a part's record so that the job's owner
// can merge the statistics of ranges read by other processes. Distinct
// sketches, unique-key and reference key sets are not in it: they hold
// per-value state that would make a part's record as large as its keys.
// Sums, minima and maxima of integers and DECIMALs are unscaled integers in
// decimal text, so they stay exact.
type Summary struct {
	Spec    string          `json:"spec"` // fingerprint of the mergeable Spec
	Rows    int64           `json:"rows"`
	Columns []SummaryColumn `json:"columns,omitempty"`
	// Daily holds, per Spec.DailyTotals entry, the unscaled sum per day.
	Daily []map[string]string `json:"daily,omitempty"`
}

// SummaryColumn is one column of a Summary; Index is its place in the table.
type SummaryColumn struct {
	Index     int     `json:"i"`
	Nulls     int64   `json:"nulls,omitempty"`
	Bad       int64   `json:"bad,omitempty"`
	Future    int64   `json:"future,omitempty"`
	Count     int64   `json:"count,omitempty"`
	Min       string  `json:"min,omitempty"`
	Max       string  `json:"max,omitempty"`
	Sum       string  `json:"sum,omitempty"`
	FMin      float64 `json:"fmin,omitempty"`
	FMax      float64 `json:"fmax,omitempty"`
	FSum      float64 `json:"fsum,omitempty"`
	Negatives int64   `json:"neg,omitempty"`
	Above     []int64 `json:"above,omitempty"`
	Below     []int64 `json:"below,omitempty"`
	TextMin   string  `json:"tmin,omitempty"`
	TextMax   string  `json:"tmax,omitempty"`
	TextSeen  bool    `json:"tseen,omitempty"`
}

// fingerprint identifies what a Summary's counts mean: the columns and
// thresholds of the mergeable statistics. encoding/json sorts map keys, so
// equal specs give equal text.
func (g *Gatherer) fingerprint() string {
	b, _ := json.Marshal(struct {
		Table       string
		Columns     int
		Summarize   []string
		Above       map[string][]string
		Below       map[string][]string
		Future      []string
		FutureAfter string
		Daily       []DailyTotalSpec
	}{g.table.Name, len(g.table.Columns), g.spec.Summarize, g.spec.Above, g.spec.Below, g.spec.Future, g.spec.FutureAfter, g.spec.DailyTotals})
	return string(b)
}

// Summary returns w's mergeable statistics. w must not receive more rows
// afterwards; it may still be added to its Gatherer.
func (w *Worker) Summary() *Summary {
	if w == nil {
		return nil
	}
	w.flush()
	s := &Summary{Spec: w.g.fingerprint(), Rows: w.rows}
	for i := range w.nulls {
		n, t := &w.nums[i], &w.texts[i]
		c := SummaryColumn{Index: i, Nulls: w.nulls[i], Bad: w.bad[i], Future: w.future[i], Count: n.count,
			FSum: n.fsum, Negatives: n.negatives, Above: n.above, Below: n.below}
		if n.count > 0 {
			c.Min, c.Max, c.Sum = n.min.bigInt().String(), n.max.bigInt().String(), n.sum.value().String()
			c.FMin, c.FMax = n.fmin, n.fmax
		}
		if t.seen {
			c.TextSeen, c.TextMin, c.TextMax = true, string(t.min), string(t.max)
		}
		if c.Nulls == 0 && c.Bad == 0 && c.Future == 0 && c.Count == 0 && !c.TextSeen {
			continue
		}
		s.Columns = append(s.Columns, c)
	}
	for j := range w.daily {
		days := map[string]string{}
		w.daily[j].each(func(k dayKey, sum *exactSum) { days[k.String()] = sum.value().String() })
		s.Daily = append(s.Daily, days)
	}
	return s
}

// AddSummary merges a Summary (of a range another process read) into the
// stream's totals, as Add merges a Worker. A summary of another spec, or a
// malformed one, is refused whole: nothing of it is merged.
func (g *Gatherer) AddSummary(s *Summary) error {
	if s == nil {
		return fmt.Errorf("%w: no summary", ErrSummaryMismatch)
	}
	if s.Spec != g.fingerprint() || len(s.Daily) != len(g.plan.daily) {
		return ErrSummaryMismatch
	}
	w := g.NewWorker()
	w.rows = s.Rows
	for _, c := range s.Columns {
		if c.Index < 0 || c.Index >= len(w.nulls) {
			return fmt.Errorf("%w: column %d of %d", ErrSummaryMismatch, c.Index, len(w.nulls))
		}
		i := c.Index
		w.nulls[i], w.bad[i], w.future[i] = c.Nulls, c.Bad, c.Future
		n := &w.nums[i]
		if len(c.Above) != len(n.above) || len(c.Below) != len(n.below) {
			return fmt.Errorf("%w: thresholds of column %d", ErrSummaryMismatch, i)
		}
		copy(n.above, c.Above)
		copy(n.below, c.Below)
		n.count, n.fsum, n.negatives = c.Count, c.FSum, c.Negatives
		if c.Count > 0 {
			var err error
			if n.min, err = numOf(c.Min); err != nil {
				return err
			}
			if n.max, err = numOf(c.Max); err != nil {
				return err
			}
			sum, err := numOf(c.Sum)
			if err != nil {
				return err
			}
			n.sum.add(sum)
			n.fmin, n.fmax = c.FMin, c.FMax
		}
		if c.TextSeen {
			w.texts[i].observe([]byte(c.TextMin))
			w.texts[i].observe([]byte(c.TextMax))
		}
	}
	for j, days := range s.Daily {
		for day, text := range days {
			if len(day) != 10 {
				return fmt.Errorf("%w: day %q", ErrSummaryMismatch, day)
			}
			v, err := numOf(text)
			if err != nil {
				return err
			}
			w.daily[j].add([]byte(day), v)
		}
	}
	g.Add(w)
	return nil
}

// numOf parses an unscaled integer in decimal text.
func numOf(text string) (num, error) {
	v, ok := new(big.Int).SetString(text, 10)
	if !ok {
		return num{}, fmt.Errorf("%w: %q is not an integer", ErrSummaryMismatch, text)
	}
	if v.IsInt64() {
		return num{small: v.Int64()}, nil
	}
	return num{big: v}, nil
}

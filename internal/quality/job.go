package quality

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/stats"
)

// Job runs the quality checks of one attempt of a sync job. Each stream
// gathers its statistics while it is read; when its reads end, rules that
// compare streams (referential integrity) wait for the other stream's reads
// of the same attempt, then every rule runs before the stream commits.
type Job struct {
	settings config.QualitySettings
	day      string
	// together is true when every stream of the attempt runs at once, so a
	// stream may wait for one that has not started yet.
	together bool

	mu      sync.Mutex
	streams map[string]*jobStream
}

type jobStream struct {
	done    chan struct{} // closed when the stream's reads ended, well or not
	once    sync.Once
	stream  *Stream // set by Begin
	readsOK bool
}

// NewJob starts the checks of an attempt that runs streams, partitioned
// on day (YYYY-MM-DD). together says whether they all run at once
// (parallel_streams >= len(streams)). It returns nil when quality checks
// are disabled; every method of a nil Job and Stream does nothing.
func NewJob(settings config.QualitySettings, day string, streams []string, together bool) *Job {
	if !settings.Enabled {
		return nil
	}
	j := &Job{settings: settings, day: day, together: together, streams: map[string]*jobStream{}}
	for _, s := range streams {
		j.streams[s] = &jobStream{done: make(chan struct{})}
	}
	return j
}

// Done marks the stream's reads as over without success (it failed or was
// never begun); it is safe to call more than once and after ReadsDone.
func (j *Job) Done(stream string) {
	if j == nil {
		return
	}
	if js := j.lookup(stream); js != nil {
		js.once.Do(func() { close(js.done) })
	}
}

func (j *Job) lookup(stream string) *jobStream {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.streams[stream]
}

// Stream is the checks of one stream in a job.
type Stream struct {
	job      *Job
	name     string
	rules    config.TableRules
	gatherer *stats.Gatherer
	partial  bool
	// setsPartial says some rows reached the statistics only through
	// merged summaries (ranges read by other processes or attempts): the
	// per-value sets (distinct sketches, unique and reference keys) miss
	// them, so the rules on those sets are skipped.
	setsPartial bool
	nulled      map[string]int64
}

// Begin prepares the statistics of stream, read from table. catalogKey is
// the connection catalog's primary key of the stream: it is checked for
// duplicates when the table has no PK constraint to guarantee it.
func (j *Job) Begin(stream string, table schema.Table, catalogKey []string) (*Stream, error) {
	if j == nil {
		return nil, nil
	}
	rules, _ := j.settings.Rules(stream)
	spec := SpecFor(j.settings, stream, table, catalogKey, j.day)
	spec.Keys = j.comparedKeys(stream, spec.Keys)
	g, err := stats.NewGatherer(table, spec)
	if err != nil {
		return nil, fmt.Errorf("quality rules of %s: %w", stream, err)
	}
	s := &Stream{job: j, name: stream, rules: rules, gatherer: g}
	j.mu.Lock()
	defer j.mu.Unlock()
	js := j.streams[stream]
	if js == nil {
		js = &jobStream{done: make(chan struct{})}
		j.streams[stream] = js
	}
	js.stream = s
	return s, nil
}

// comparedKeys keeps the key columns of stream that a reference rule
// compares with a stream of this job. A key set exists only to be compared
// with the other side's, gathered in the same attempt; when that stream is
// not in the job the rule is skipped anyway, and the key set would cost a
// hash-table update per row for nothing.
func (j *Job) comparedKeys(stream string, keys []string) []string {
	var out []string
	for _, k := range keys {
		if j.compares(stream, k) {
			out = append(out, k)
		}
	}
	return out
}

func (j *Job) compares(stream, column string) bool {
	for name, other := range j.settings.Tables {
		for _, r := range other.References {
			switch {
			case strings.EqualFold(r.RefTable, name): // a stream is not compared with itself
			case name == stream && strings.EqualFold(r.Column, column) && j.lookup(r.RefTable) != nil:
				return true
			case strings.EqualFold(r.RefTable, stream) && strings.EqualFold(r.RefColumn, column) && j.lookup(name) != nil:
				return true
			}
		}
	}
	return false
}

// SpecFor derives what to gather for stream from its rules and the
// references other streams make to it, for a partition of day
// (YYYY-MM-DD). catalogKey is the key checked for uniqueness when the table
// has no PRIMARY KEY constraint and the rules name no unique_key. The sync
// and the recomputation of `acode validate --deep` both use it, so the
// statistics have one definition.
func SpecFor(settings config.QualitySettings, stream string, table schema.Table, catalogKey []string, day string) stats.Spec {
	rules, _ := settings.Rules(stream)
	spec := stats.Spec{
		Summarize: rules.Summarize, Distinct: rules.Distinct,
		Above: map[string][]string{}, Below: map[string][]string{},
		FutureAfter: day,
	}
	spec.Unique = rules.UniqueKey
	if len(spec.Unique) == 0 && len(table.PrimaryKey) == 0 {
		spec.Unique = catalogKey
	}
	for _, o := range rules.Outliers {
		if o.Above != "" {
			spec.Above[o.Column] = append(spec.Above[o.Column], o.Above)
		}
		if o.Below != "" {
			spec.Below[o.Column] = append(spec.Below[o.Column], o.Below)
		}
	}
	for _, r := range rules.References {
		spec.Keys = appendOnce(spec.Keys, r.Column)
	}
	for name, other := range settings.Tables {
		for _, r := range other.References {
			if name != stream && strings.EqualFold(r.RefTable, stream) {
				spec.Keys = appendOnce(spec.Keys, r.RefColumn)
			}
		}
	}
	if f := rules.FutureDates; f != nil {
		spec.Future = f.Columns
	}
	if d := rules.DailyTotal; d != nil && has(table, d.Column) && has(table, d.DateColumn) {
		spec.DailyTotals = []stats.DailyTotalSpec{{Value: d.Column, Date: d.DateColumn}}
		spec.Summarize = appendOnce(spec.Summarize, d.Column)
	}
	// A column the table lacks is reported by required_columns and the
	// rules that name it, not by failing the sync.
	spec.Summarize, spec.Distinct, spec.Keys = present(table, spec.Summarize), present(table, spec.Distinct), present(table, spec.Keys)
	spec.Future, spec.Unique = present(table, spec.Future), allPresent(table, spec.Unique)
	for _, m := range []map[string][]string{spec.Above, spec.Below} {
		for c := range m {
			if !has(table, c) {
				delete(m, c)
			}
		}
	}
	return spec
}

func has(t schema.Table, column string) bool {
	_, ok := t.Column(column)
	return ok
}

func present(t schema.Table, columns []string) []string {
	var out []string
	for _, c := range columns {
		if has(t, c) {
			out = append(out, c)
		}
	}
	return out
}

func allPresent(t schema.Table, columns []string) []string {
	if len(present(t, columns)) != len(columns) {
		return nil
	}
	return columns
}

func appendOnce(list []string, v string) []string {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return list
		}
	}
	return append(list, v)
}

// NewWorker returns the statistics collector of one read worker.
func (s *Stream) NewWorker() *stats.Worker {
	if s == nil {
		return nil
	}
	return s.gatherer.NewWorker()
}

// Add merges a read worker's statistics once its rows are uploaded.
func (s *Stream) Add(w *stats.Worker) {
	if s == nil || w == nil {
		return
	}
	s.gatherer.Add(w)
}

// MarkPartial records that an earlier attempt read some of the rows: the
// statistics then cover only this attempt's reads, and the rules that need
// every row are reported as skipped.
func (s *Stream) MarkPartial() {
	if s != nil {
		s.partial = true
	}
}

// MergeSummary adds the statistics of a part read by another process or
// an earlier attempt (stats.Summary as JSON, as the part's record holds
// it). On error nothing is merged: the caller marks the stream partial.
func (s *Stream) MergeSummary(text string) error {
	if s == nil {
		return nil
	}
	if text == "" {
		return fmt.Errorf("%w: the part's reader recorded no statistics", stats.ErrSummaryMismatch)
	}
	var sum stats.Summary
	if err := json.Unmarshal([]byte(text), &sum); err != nil {
		return fmt.Errorf("%w: decode: %v", stats.ErrSummaryMismatch, err)
	}
	if err := s.gatherer.AddSummary(&sum); err != nil {
		return err
	}
	s.setsPartial = true
	return nil
}

// ReadsDone says the stream's reads all succeeded: streams referring to
// it may now compare their keys with its.
func (s *Stream) ReadsDone() {
	if s == nil {
		return
	}
	js := s.job.lookup(s.name)
	s.job.mu.Lock()
	js.readsOK = true
	s.job.mu.Unlock()
	js.once.Do(func() { close(js.done) })
}

// NoteNulled records, per column, the values the encoder wrote as NULL
// because their Parquet type cannot hold them; Finish reports them.
func (s *Stream) NoteNulled(counts map[string]int64) {
	if s != nil && len(counts) > 0 {
		s.nulled = counts
	}
}

// Finish measures what needs the source (completeness, custom SQL), the
// references to other streams, and evaluates every rule. written is the
// number of rows this job wrote for the stream, counted the source's count
// of them (-1: not counted).
func (s *Stream) Finish(ctx context.Context, src *Source, written, counted int64) (*stats.Stream, StreamReport) {
	if s == nil {
		return nil, StreamReport{}
	}
	st := s.gatherer.Result()
	if s.setsPartial { // the sketches miss the merged parts' rows
		for i := range st.Columns {
			st.Columns[i].Distinct, st.Columns[i].Sketch = 0, nil
		}
		st.KeyCounts = nil
	}
	st.Nulled = s.nulled
	for i := range st.Columns { // the gatherer saw their text; the files hold NULL
		st.Columns[i].Nulls += s.nulled[st.Columns[i].Name]
	}
	if src != nil {
		src.measure(ctx, st, s.rules.SQL, counted)
	}
	for _, ref := range s.rules.References {
		if m, ok := s.reference(ctx, ref); ok {
			st.SetSource(MeasureReferencePrefix+ref.Column, m)
		}
	}
	rep := Evaluate(Input{Stream: s.name, Settings: s.job.settings, Stats: st, Written: written, Day: s.job.day, Partial: s.partial,
		SetsPartial: s.setsPartial && !s.partial})
	if s.setsPartial {
		st.Unique = nil // it misses the merged parts' keys: kept out of the manifest, which validate re-checks
	}
	return st, rep
}

// reference compares the stream's key set with the referenced stream's,
// waiting for its reads when it runs in the same attempt.
func (s *Stream) reference(ctx context.Context, ref config.ReferenceRule) (stats.Measure, bool) {
	if s.partial || s.setsPartial {
		return stats.Measure{}, false
	}
	js := s.job.lookup(ref.RefTable)
	if js == nil || strings.EqualFold(ref.RefTable, s.name) {
		return stats.Measure{}, false
	}
	s.job.mu.Lock()
	started := js.stream != nil
	s.job.mu.Unlock()
	if !started && !s.job.together {
		return stats.Measure{}, false // it waits for a stream slot we may hold
	}
	select {
	case <-js.done:
	case <-ctx.Done():
		return stats.Measure{}, false
	}
	s.job.mu.Lock()
	other, ok := js.stream, js.readsOK
	s.job.mu.Unlock()
	if !ok || other == nil || other.partial || other.setsPartial {
		return stats.Measure{}, false
	}
	mine, theirs := s.gatherer.Keys(ref.Column), other.gatherer.Keys(ref.RefColumn)
	if mine == nil || theirs == nil {
		return stats.Measure{}, false
	}
	values, rows := mine.Missing(theirs)
	return stats.Measure{Value: float64(values), Extra: float64(mine.Len()),
		Note: fmt.Sprintf("%d rows hold a missing value; %s has %d distinct", rows, ref.RefTable, theirs.Len())}, true
}

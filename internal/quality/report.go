// Package quality turns the seed's data-quality checks into rules that run
// on the statistics a sync gathers while it writes (see package stats): the
// schema_validations (required columns, data types, null tolerance),
// completeness against the source, key uniqueness, outliers, referential
// integrity between streams, future dates, daily totals, minimum rows and
// custom SQL. Each rule has a severity; a stream failing an error rule is
// quarantined by the syncer instead of replacing its partition.
package quality

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/acode-dev/acode/internal/failure"
)

// Result is one rule evaluated on one stream.
type Result struct {
	Rule      string           `json:"rule"`
	Severity  failure.Severity `json:"severity"`
	Passed    bool             `json:"passed"`
	Skipped   bool             `json:"skipped,omitempty"` // could not be evaluated; not scored
	Measured  string           `json:"measured"`
	Threshold string           `json:"threshold"`
	Detail    string           `json:"detail,omitempty"`
}

// Failing reports whether the result is a failure (skipped ones are not).
func (r Result) Failing() bool { return !r.Passed && !r.Skipped }

// StreamReport is the rules of one stream's partition.
type StreamReport struct {
	Stream    string   `json:"stream"`
	Partition string   `json:"partition,omitempty"`
	Rows      int64    `json:"rows"`
	Score     float64  `json:"score"`
	Results   []Result `json:"results"`
	// Partial is set when the statistics cover only part of the rows (a
	// retried attempt that resumed parts of an earlier one).
	Partial bool   `json:"partial,omitempty"`
	Status  string `json:"status,omitempty"` // committed | quarantined | promoted, when known
}

// Seed's partial score for a failed warning (its business_rules score 0.7
// "if issues found"); a failed error scores 0.
const warningScore = 0.7

// score sets Score: the mean over evaluated rules of 1 (passed), 0.7
// (failed warning) or 0 (failed error); 1 when nothing was evaluated.
func (s *StreamReport) score() {
	sum, n := 0.0, 0
	for _, r := range s.Results {
		if r.Skipped {
			continue
		}
		n++
		switch {
		case r.Passed:
			sum++
		case r.Severity == failure.Warning:
			sum += warningScore
		}
	}
	s.Score = 1
	if n > 0 {
		s.Score = sum / float64(n)
	}
	sortResults(s.Results)
}

// Rescore recomputes the score and order of r after results were added.
func Rescore(r StreamReport) StreamReport {
	r.score()
	return r
}

// sortResults puts failing errors first, then failing warnings, keeping
// the rule order within each group.
func sortResults(rs []Result) {
	rank := func(r Result) int {
		switch {
		case r.Failing() && r.Severity == failure.Error:
			return 0
		case r.Failing():
			return 1
		case r.Skipped:
			return 3
		}
		return 2
	}
	sort.SliceStable(rs, func(i, j int) bool { return rank(rs[i]) < rank(rs[j]) })
}

// Errors returns the failing error-severity results.
func (s StreamReport) Errors() []Result {
	var out []Result
	for _, r := range s.Results {
		if r.Failing() && r.Severity == failure.Error {
			out = append(out, r)
		}
	}
	return out
}

// Report is the quality of several streams (a job, or a day's partitions).
type Report struct {
	Streams   []StreamReport `json:"streams"`
	Score     float64        `json:"score"`
	Threshold float64        `json:"threshold"`
	Passed    bool           `json:"passed"`
}

// NewReport scores streams: the overall score is the mean of the stream
// scores, and the report passes when it reaches threshold and no error
// rule fails.
func NewReport(streams []StreamReport, threshold float64) Report {
	r := Report{Streams: streams, Threshold: threshold, Score: 1, Passed: true}
	if len(streams) > 0 {
		sum := 0.0
		for _, s := range streams {
			sum += s.Score
			if len(s.Errors()) > 0 {
				r.Passed = false
			}
		}
		r.Score = sum / float64(len(streams))
	}
	if r.Score < threshold {
		r.Passed = false
	}
	return r
}

// ErrValidationFailed is what a stream failing an error-severity rule
// returns (as a *FailedError, which is also failure.ErrDataCorruption).
var ErrValidationFailed = errors.New("data quality validation failed")

// FailedError says which error rules a stream failed and where its files
// were quarantined.
type FailedError struct {
	Stream     string
	Failed     []Result
	Quarantine string // key prefix holding the quarantined files, when quarantined
}

func (e *FailedError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, r := range e.Failed {
		parts[i] = fmt.Sprintf("%s: %s (threshold %s)", r.Rule, r.Measured, r.Threshold)
	}
	msg := fmt.Sprintf("stream %s failed data quality: %s", e.Stream, strings.Join(parts, "; "))
	if e.Quarantine != "" {
		msg += "; files quarantined under " + e.Quarantine
	}
	return msg
}

// Unwrap makes errors.Is match ErrValidationFailed, and classifies a
// failed gate as data_corruption (failure.Classify).
func (e *FailedError) Unwrap() []error {
	return []error{ErrValidationFailed, failure.ErrDataCorruption}
}

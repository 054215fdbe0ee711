package report

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
)

// Storage is one stream's bronze data as acode's commits record it: what
// the destination holds (every live partition) and how the table grew
// over the period (rows of its newest snapshot before the period and at
// its end).
type Storage struct {
	Connection  string `json:"connection"`
	Stream      string `json:"stream"`
	Partitions  int    `json:"partitions"`
	Bytes       int64  `json:"bytes"`
	NewInPeriod int    `json:"partitions_in_period"`
	BytesAdded  int64  `json:"bytes_in_period"`
	RowsBefore  int64  `json:"rows_before"` // newest snapshot committed before the period
	RowsAtEnd   int64  `json:"rows_at_end"` // newest snapshot committed before its end
}

// storage reads every connection's live commits (quarantined ones are not
// in the bronze layer).
func storage(ctx context.Context, st *state.Store, p *config.Project, from, to time.Time) ([]Storage, error) {
	out := []Storage{}
	for _, conn := range p.ConnectionNames() {
		commits, err := st.Commits(ctx, conn, "", time.Time{})
		if err != nil {
			return nil, err
		}
		by := map[string]*Storage{}
		var newestBefore, newestAtEnd = map[string]time.Time{}, map[string]time.Time{}
		for _, c := range commits {
			if c.Status == state.CommitQuarantined || !c.CommittedAt.Before(to) {
				continue
			}
			s := by[c.Stream]
			if s == nil {
				s = &Storage{Connection: conn, Stream: c.Stream}
				by[c.Stream] = s
			}
			s.Partitions++
			s.Bytes += c.Bytes
			if !c.CommittedAt.Before(from) {
				s.NewInPeriod++
				s.BytesAdded += c.Bytes
			} else if c.CommittedAt.After(newestBefore[c.Stream]) {
				newestBefore[c.Stream], s.RowsBefore = c.CommittedAt, c.Rows
			}
			if c.CommittedAt.After(newestAtEnd[c.Stream]) {
				newestAtEnd[c.Stream], s.RowsAtEnd = c.CommittedAt, c.Rows
			}
		}
		for _, s := range by {
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b Storage) int {
		return strings.Compare(a.Connection+"/"+a.Stream, b.Connection+"/"+b.Stream)
	})
	return out, nil
}

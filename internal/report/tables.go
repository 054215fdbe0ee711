package report

import (
	"context"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

// TableGrowth is one source table's growth by the server's own figures
// (information_schema, recorded weekly by serve): the last measurement
// before the period and the last one in it, beside the commit-based
// Storage rows.
type TableGrowth struct {
	Source          string    `json:"source"`
	Schema          string    `json:"schema"`
	Table           string    `json:"table"`
	RowsBefore      int64     `json:"rows_before"`
	RowsAtEnd       int64     `json:"rows_at_end"`
	DataBytesBefore int64     `json:"data_bytes_before"`
	DataBytesAtEnd  int64     `json:"data_bytes_at_end"`
	IndexBytesAtEnd int64     `json:"index_bytes_at_end"`
	MeasuredAt      time.Time `json:"measured_at"` // of the figures at end
}

// tableGrowth reads every measurement before to and keeps, per table, the
// newest before from and the newest in [from, to); a table measured only
// in the period has zero before.
func tableGrowth(ctx context.Context, st *state.Store, from, to time.Time) ([]TableGrowth, error) {
	sizes, err := st.TableSizesBetween(ctx, time.Time{}, to)
	if err != nil {
		return nil, err
	}
	var out []TableGrowth
	for _, z := range sizes { // ordered by source, schema, table, time
		n := len(out)
		if n == 0 || out[n-1].Source != z.Source || out[n-1].Schema != z.Schema || out[n-1].Table != z.Table {
			out = append(out, TableGrowth{Source: z.Source, Schema: z.Schema, Table: z.Table})
			n++
		}
		g := &out[n-1]
		if z.MeasuredAt.Before(from) {
			g.RowsBefore, g.DataBytesBefore = z.Rows, z.DataLength
			continue
		}
		g.RowsAtEnd, g.DataBytesAtEnd, g.IndexBytesAtEnd, g.MeasuredAt = z.Rows, z.DataLength, z.IndexLength, z.MeasuredAt
	}
	kept := out[:0]
	for _, g := range out {
		if !g.MeasuredAt.IsZero() {
			kept = append(kept, g)
		}
	}
	return kept, nil
}

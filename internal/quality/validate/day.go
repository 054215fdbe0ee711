package validate

import (
	"context"
	"fmt"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

// StreamLayout is where a connection's stream is partitioned on day: the
// partition a job started that day wrote. Path formats holding a time of
// day (${HOUR}, ${EPOCH}...) render for midnight UTC.
func StreamLayout(conn *config.Connection, s config.Stream, day time.Time) layout.Stream {
	ns := conn.Namespace(s)
	return layout.ForStream(conn.Destination.BucketPath, conn.Destination.PathFormat, layout.Vars{
		Namespace: ns, Stream: s.Name, Time: day.UTC(),
	})
}

// Result is the validation of one connection's partitions of a day.
type Result struct {
	Date       string  `json:"date"`
	Connection string  `json:"connection"`
	Score      float64 `json:"score"`
	Threshold  float64 `json:"threshold"`
	Passed     bool    `json:"passed"`
	Partitions []Check `json:"partitions"`
}

// Day validates every selected stream of conn for day. st, when not nil,
// adds what the state store knows (a quarantined latest job).
func Day(ctx context.Context, p *config.Project, conn *config.Connection, day time.Time, st *state.Store, opts Options) (Result, error) {
	store, err := connect.Store(ctx, conn.Destination)
	if err != nil {
		return Result{}, fmt.Errorf("validate %s: %w", conn.ResourceName, err)
	}
	return DayIn(ctx, store, p.Settings.Quality, conn, day, st, opts)
}

// DayIn is Day with the destination store already open.
func DayIn(ctx context.Context, store storage.Store, settings config.QualitySettings, conn *config.Connection, day time.Time, st *state.Store, opts Options) (Result, error) {
	res := Result{Date: day.UTC().Format(time.DateOnly), Connection: conn.ResourceName}
	var reports []quality.StreamReport
	for _, s := range conn.SelectedStreams() {
		c, err := Partition(ctx, store, settings, conn.ResourceName, s.Name, StreamLayout(conn, s, day), opts)
		if err != nil {
			return res, err
		}
		c.Connection = conn.ResourceName
		if err := Commit(ctx, st, &c); err != nil {
			return res, err
		}
		res.Partitions = append(res.Partitions, c)
		reports = append(reports, c.Report)
	}
	r := quality.NewReport(reports, settings.ScoreThreshold)
	res.Score, res.Threshold, res.Passed = r.Score, r.Threshold, r.Passed
	return res, nil
}

package page

import (
	"context"
	"errors"
	"fmt"

	"github.com/acode-dev/acode/internal/state"
)

// qualityJobs is how many of a connection's newest jobs are searched for a
// stream's newest quality report.
const qualityJobs = 5

// storeQuality is the default QualitySource: the newest quality report of
// every selected stream of every connection, among its last few jobs.
func (p *Page) storeQuality(ctx context.Context) ([]QualityScore, error) {
	threshold := p.opts.Project.Settings.Quality.ScoreThreshold
	var out []QualityScore
	for _, name := range p.opts.Project.ConnectionNames() {
		jobs, err := p.opts.State.ListJobs(ctx, state.JobFilter{Connection: name, Limit: qualityJobs})
		if err != nil {
			return nil, fmt.Errorf("jobs of %s: %w", name, err)
		}
		if len(jobs) == 0 {
			continue
		}
		for _, st := range p.opts.Project.Connections[name].SelectedStreams() {
			for _, j := range jobs {
				r, err := p.opts.State.QualityReport(ctx, j.ID, st.Name)
				if errors.Is(err, state.ErrNotFound) {
					continue
				}
				if err != nil {
					return nil, err
				}
				out = append(out, QualityScore{Connection: name, Stream: st.Name, Partition: partitionDay(state.Commit{Partition: r.Partition, CommittedAt: r.CreatedAt}),
					Score: r.Score, Threshold: threshold, Passed: r.Score >= threshold && r.Errors == 0, Errors: r.Errors, Warnings: r.Warnings,
					Status: r.Status, JobID: r.JobID, At: r.CreatedAt})
				break
			}
		}
	}
	return out, nil
}

package promote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/snapshot"
)

// Days promotes the backup's live snapshots of the given UTC days
// (YYYY-MM-DD, by the start of the job that wrote them) into the primary's
// layout, partition by partition, where the primary has nothing as new of
// its own: the gap fill of a reconcile after a failback. It needs State to
// find the backup's commits.
func (p *Promoter) Days(ctx context.Context, backup, primary *config.Connection, days []string) ([]Result, error) {
	if p.State == nil {
		return nil, errors.New("promote days: no state store")
	}
	if len(days) == 0 {
		return nil, nil
	}
	first := slices.Min(days)
	since, err := time.Parse(time.DateOnly, first)
	if err != nil {
		return nil, fmt.Errorf("promote days: day %q: %w", first, err)
	}
	commits, err := p.State.Commits(ctx, backup.ResourceName, "", since)
	if err != nil {
		return nil, fmt.Errorf("promote days: %w", err)
	}
	from, _, _, err := p.stores(ctx, backup.Destination, primary.Destination)
	if err != nil {
		return nil, err
	}
	var out []Result
	var errs []error
	for _, c := range commits {
		m, err := snapshot.ReadManifest(ctx, from, c.ManifestKey)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !slices.Contains(days, m.StartedAt.UTC().Format(time.DateOnly)) {
			continue
		}
		r, err := p.Partition(ctx, backup, primary, c.ManifestKey)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

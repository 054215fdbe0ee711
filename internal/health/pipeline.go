package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/layout"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

// LastSync grades the age of the newest succeeded job among connections
// (a primary and its backup count together: either one keeps the data
// fresh). target names the result.
func LastSync(ctx context.Context, st *state.Store, target string, connections []string, warn, crit time.Duration, now time.Time) Result {
	r := Result{Check: CheckLastSync, Target: target, Threshold: thresholds(warn, crit), Time: now}
	var newest *state.Job
	for _, c := range connections {
		j, err := st.LastJob(ctx, c, state.JobSucceeded)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			r.Status, r.Err, r.Value = failure.Critical, err, "unknown"
			r.Message = fmt.Sprintf("cannot read jobs: %v", err)
			return r
		}
		if newest == nil || endOf(j).After(endOf(*newest)) {
			newest = &j
		}
	}
	if newest == nil {
		r.Status, r.Value = failure.Warning, "never"
		r.Message = fmt.Sprintf("no successful sync of %s yet", strings.Join(connections, " or "))
		return r
	}
	age := max(now.Sub(endOf(*newest)), 0)
	r.Status = grade(age, warn, crit)
	r.Value = age.Round(time.Second).String()
	r.Message = fmt.Sprintf("last successful sync: job %d of %s (%s), ended %s",
		newest.ID, newest.Connection, newest.Source, endOf(*newest).Format(time.RFC3339))
	return r
}

func endOf(j state.Job) time.Time {
	if j.EndedAt != nil {
		return *j.EndedAt
	}
	return j.UpdatedAt
}

// DestinationUploads grades the age of the newest committed manifest under
// prefix in the destination: what readers of the bucket actually got,
// whatever the state store says.
func DestinationUploads(ctx context.Context, store storage.Store, target, prefix string, warn, crit time.Duration, now time.Time) Result {
	r := Result{Check: CheckUploads, Target: target, Threshold: thresholds(warn, crit), Time: now}
	var newest storage.ObjectInfo
	err := store.List(ctx, prefix, func(o storage.ObjectInfo) error {
		if (o.Key == layout.ManifestName || strings.HasSuffix(o.Key, "/"+layout.ManifestName)) && o.ModTime.After(newest.ModTime) {
			newest = o
		}
		return nil
	})
	if err != nil {
		r.Status, r.Err, r.Value = failure.Critical, err, "unknown"
		r.Message = fmt.Sprintf("cannot list %s: %v", store.Location(prefix), err)
		return r
	}
	if newest.Key == "" {
		r.Status, r.Value = failure.Warning, "never"
		r.Message = fmt.Sprintf("no committed partition under %s yet", store.Location(prefix))
		return r
	}
	age := max(now.Sub(newest.ModTime), 0)
	r.Status = grade(age, warn, crit)
	r.Value = age.Round(time.Second).String()
	r.Message = fmt.Sprintf("newest commit %s at %s", store.Location(newest.Key), newest.ModTime.UTC().Format(time.RFC3339))
	return r
}

// ConnectionStatus reports the connection file's status: only an active
// connection is synced, so anything else is a warning (the seed's check
// expected "active").
func ConnectionStatus(c *config.Connection, role string, now time.Time) Result {
	r := Result{Check: CheckConnectionStatus, Target: c.ResourceName, Value: c.Status, Threshold: "active", Time: now}
	if c.Status == "active" {
		r.Status, r.Message = failure.OK, "active"
		return r
	}
	r.Status = failure.Warning
	r.Message = fmt.Sprintf("status %s in %s", c.Status, c.File)
	if role == "backup" {
		r.Message += ": failover cannot use this backup connection"
	}
	return r
}

package health

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
)

// Checker runs every check of a project once. The zero values of the
// optional fields are the production ones.
type Checker struct {
	Project *config.Project
	State   *state.Store
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// OpenSource and OpenStore reach a source and a destination; connect's
	// functions when nil.
	OpenSource func(ctx context.Context, src *config.Source) (*sql.DB, error)
	OpenStore  func(ctx context.Context, dst *config.Destination) (storage.Store, error)
}

// checkOrder is the order results are listed in.
var checkOrder = []string{CheckConnectivity, CheckFreshness, CheckReplicationLag, CheckLastSync, CheckUploads, CheckConnectionStatus}

// Run runs every check and returns the results ordered by check, then
// target. Sources are checked in parallel: an unreachable one costs its
// connect timeout, not the sum of all of them. The error is a
// configuration problem (an invalid failover pair); checks that fail are
// results, not errors.
func (c *Checker) Run(ctx context.Context) ([]Result, error) {
	pairs, err := c.Project.FailoverPairs()
	if err != nil {
		return nil, err
	}
	now := c.now()
	roles := connectionRoles(pairs)
	var (
		mu      sync.Mutex
		results []Result
		wg      sync.WaitGroup
	)
	for _, src := range c.sources() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs := c.checkSource(ctx, src, c.isBackupSource(src, pairs), now)
			mu.Lock()
			results = append(results, rs...)
			mu.Unlock()
		}()
	}
	pipelines := c.checkPipelines(ctx, pairs, roles, now)
	wg.Wait()
	results = append(results, pipelines...)
	for i := range results {
		results[i].Class = failure.Classify(results[i].Err)
	}
	slices.SortStableFunc(results, func(a, b Result) int {
		if d := slices.Index(checkOrder, a.Check) - slices.Index(checkOrder, b.Check); d != 0 {
			return d
		}
		return strings.Compare(a.Target, b.Target)
	})
	return results, nil
}

// Record stores results in the health history and prunes what is older
// than the retention.
func (c *Checker) Record(ctx context.Context, results []Result) error {
	recs := make([]state.HealthRecord, len(results))
	for i, r := range results {
		recs[i] = r.Record()
	}
	if err := c.State.RecordHealth(ctx, recs); err != nil {
		return err
	}
	if _, err := c.State.PruneHealth(ctx, c.now().Add(-c.Project.Settings.Health.HistoryRetention)); err != nil {
		return err
	}
	return nil
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

// sources lists the sources connections read, by name.
func (c *Checker) sources() []*config.Source {
	seen := map[string]*config.Source{}
	for _, conn := range c.Project.Connections {
		if conn.Source != nil {
			seen[conn.Source.ResourceName] = conn.Source
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]*config.Source, len(names))
	for i, n := range names {
		out[i] = seen[n]
	}
	return out
}

func (c *Checker) isBackupSource(src *config.Source, pairs []config.FailoverPair) bool {
	for _, p := range pairs {
		if b := c.Project.Connections[p.Backup]; b != nil && b.Source == src {
			return true
		}
	}
	return false
}

// checkSource runs connectivity, then freshness and (on a backup) the
// replication lag over the same connection.
func (c *Checker) checkSource(ctx context.Context, src *config.Source, backup bool, now time.Time) []Result {
	hs := c.Project.Settings.Health
	open := func(ctx context.Context) (*sql.DB, error) { return c.openSource(ctx, src) }
	conn, db := Connectivity(ctx, src.ResourceName, hs.ConnectTimeout, open, now)
	out := []Result{conn}
	fq := FreshnessQuery{Database: src.Database, Table: hs.FreshnessTable, Column: hs.FreshnessColumn,
		Location: hs.Location(), Warning: hs.FreshnessWarning, Critical: hs.FreshnessCritical}
	if db == nil {
		out = append(out, Result{Check: CheckFreshness, Target: src.ResourceName, Status: failure.Warning, Value: "unknown",
			Threshold: thresholds(fq.Warning, fq.Critical), Time: now, Message: "not measured: the source is unreachable"})
		if backup {
			out = append(out, Result{Check: CheckReplicationLag, Target: src.ResourceName, Status: failure.Critical, Value: "unknown",
				Threshold: thresholds(hs.LagWarning, hs.LagCritical), Time: now, Err: conn.Err,
				Message: "not measured: the backup replica is unreachable"})
		}
		return out
	}
	defer db.Close()
	qctx, cancel := context.WithTimeout(ctx, hs.QueryTimeout)
	defer cancel()
	out = append(out, Freshness(qctx, db, src.ResourceName, fq, now))
	if backup {
		out = append(out, ReplicationLag(qctx, db, src.ResourceName, hs.LagWarning, hs.LagCritical, now))
	}
	return out
}

func (c *Checker) openSource(ctx context.Context, src *config.Source) (*sql.DB, error) {
	if c.OpenSource != nil {
		return c.OpenSource(ctx, src)
	}
	sync := c.Project.Settings.Sync
	sync.ConnectTimeout = c.Project.Settings.Health.ConnectTimeout
	sync.ReadTimeout = c.Project.Settings.Health.QueryTimeout
	return connect.Source(ctx, src, sync, 2)
}

// connectionRoles maps connection names to "primary" or "backup" for paired
// connections.
func connectionRoles(pairs []config.FailoverPair) map[string]string {
	roles := map[string]string{}
	for _, p := range pairs {
		roles[p.Primary], roles[p.Backup] = "primary", "backup"
	}
	return roles
}

// checkPipelines runs last_sync and destination_uploads per pair (under
// the primary's name) and per unpaired connection, and connection_status
// per connection.
func (c *Checker) checkPipelines(ctx context.Context, pairs []config.FailoverPair, roles map[string]string, now time.Time) []Result {
	hs := c.Project.Settings.Health
	var out []Result
	groups := map[string][]string{} // target connection -> connections whose jobs count
	for _, p := range pairs {
		groups[p.Primary] = []string{p.Primary, p.Backup}
	}
	for _, name := range c.Project.ConnectionNames() {
		conn := c.Project.Connections[name]
		out = append(out, ConnectionStatus(conn, roles[name], now))
		if _, paired := roles[name]; !paired && conn.Status == "active" {
			groups[name] = []string{name}
		}
	}
	checkedDest := map[string]bool{}
	for _, name := range c.Project.ConnectionNames() {
		members, ok := groups[name]
		if !ok {
			continue
		}
		out = append(out, LastSync(ctx, c.State, name, members, hs.SyncWarning, hs.SyncCritical, now))
		dst := c.Project.Connections[name].Destination
		if dst == nil || checkedDest[dst.ResourceName] {
			continue
		}
		checkedDest[dst.ResourceName] = true
		out = append(out, c.checkUploads(ctx, dst, now))
	}
	return out
}

func (c *Checker) checkUploads(ctx context.Context, dst *config.Destination, now time.Time) Result {
	hs := c.Project.Settings.Health
	open := c.OpenStore
	if open == nil {
		open = connect.Store
	}
	store, err := open(ctx, dst)
	if err != nil {
		return Result{Check: CheckUploads, Target: dst.ResourceName, Status: failure.Critical, Value: "unknown", Err: err,
			Threshold: thresholds(hs.SyncWarning, hs.SyncCritical), Time: now,
			Message: fmt.Sprintf("cannot open the destination: %v", err)}
	}
	if cl, ok := store.(interface{ Close() error }); ok {
		defer cl.Close()
	}
	qctx, cancel := context.WithTimeout(ctx, hs.QueryTimeout)
	defer cancel()
	return DestinationUploads(qctx, store, dst.ResourceName, dst.BucketPath, hs.SyncWarning, hs.SyncCritical, now)
}

package failover

import (
	"context"
	"fmt"
	"slices"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/scratch"
	"github.com/acode-dev/acode/internal/state"
)

// Report is what `acode status` shows: each failover pair's Status, and
// each connection in no pair with its own last jobs and scratch dirs. A
// project without pairs is not an error: its connections are still
// synced, and the user asking for status wants to see them.
type Report struct {
	Pairs []PairReport `json:"pairs"`
	// Connections are the connections in no pair, by name.
	Connections []ConnectionReport `json:"connections"`
	// NoPairs, when set, says why there are no pairs and how to add one.
	NoPairs string `json:"no_pairs,omitempty"`
}

// PairReport is a pair's Status and the local scratch dirs of its jobs
// (part files of a running job, or what a dead one left for the next run
// to remove).
type PairReport struct {
	Status
	Scratch []scratch.JobDir `json:"scratch"`
}

// ConnectionReport is a connection outside every pair: its newest jobs
// and its scratch dirs.
type ConnectionReport struct {
	Connection string           `json:"connection"`
	Jobs       []state.Job      `json:"jobs"`
	Scratch    []scratch.JobDir `json:"scratch"`
}

// NoPairsHint is Report.NoPairs for a project without pairs.
const NoPairsHint = "no failover pairs: add a connection <name>_backup or failover.pairs in " + config.SettingsFile

// ReportOf reads the Report of project p from store: every pair and
// unpaired connection, or, when only is not empty, the pair holding that
// connection (or the connection alone when it is in no pair). opts.Jobs
// also bounds the jobs listed per unpaired connection.
func ReportOf(ctx context.Context, store *state.Store, p *config.Project, only string, opts StatusOptions) (Report, error) {
	pairs, err := PairsFrom(p)
	if err != nil {
		return Report{}, err
	}
	if only != "" {
		c, err := p.Connection(only) // a resource name or an Airbyte id
		if err != nil {
			return Report{}, err // config.ErrUnknownConnection
		}
		only = c.ResourceName
	}
	out := Report{Pairs: []PairReport{}, Connections: []ConnectionReport{}}
	if len(pairs) == 0 {
		out.NoPairs = NoPairsHint
	}
	dir := scratch.Dir{Root: p.Settings.Sync.SpoolDir}
	paired := map[string]bool{}
	pol := PolicyFrom(p.Settings.Failover)
	for _, pr := range pairs {
		paired[pr.Primary], paired[pr.Backup] = true, true
		if only != "" && only != pr.Primary && only != pr.Backup {
			continue
		}
		s, err := New(store, pr, pol).Status(ctx, opts)
		if err != nil {
			return Report{}, err
		}
		scr, err := scratchOf(dir, pr.Primary, pr.Backup)
		if err != nil {
			return Report{}, err
		}
		out.Pairs = append(out.Pairs, PairReport{Status: s, Scratch: scr})
	}
	for _, name := range p.ConnectionNames() {
		if paired[name] || (only != "" && only != name) {
			continue
		}
		c, err := connectionReport(ctx, store, dir, name, opts.Jobs)
		if err != nil {
			return Report{}, err
		}
		out.Connections = append(out.Connections, c)
	}
	return out, nil
}

func connectionReport(ctx context.Context, store *state.Store, dir scratch.Dir, name string, jobs int) (ConnectionReport, error) {
	c := ConnectionReport{Connection: name, Jobs: []state.Job{}}
	if jobs > 0 {
		js, err := store.ListJobs(ctx, state.JobFilter{Connection: name, Limit: jobs})
		if err != nil {
			return ConnectionReport{}, fmt.Errorf("jobs of %s: %w", name, err)
		}
		c.Jobs = append(c.Jobs, js...)
	}
	var err error
	if c.Scratch, err = scratchOf(dir, name); err != nil {
		return ConnectionReport{}, err
	}
	return c, nil
}

// scratchOf lists the scratch dirs of the connections' jobs, oldest job
// first within each connection.
func scratchOf(dir scratch.Dir, conns ...string) ([]scratch.JobDir, error) {
	out := []scratch.JobDir{}
	for _, c := range slices.Compact(conns) {
		js, err := dir.Jobs(c)
		if err != nil {
			return nil, err
		}
		out = append(out, js...)
	}
	return out, nil
}

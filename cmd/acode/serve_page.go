package main

import (
	"context"
	"log/slog"

	"github.com/acode-dev/acode/internal/alert"
	"github.com/acode-dev/acode/internal/cluster"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failover"
	"github.com/acode-dev/acode/internal/scratch"
	"github.com/acode-dev/acode/internal/server"
	"github.com/acode-dev/acode/internal/server/metrics"
	"github.com/acode-dev/acode/internal/server/page"
	"github.com/acode-dev/acode/internal/state"
)

// addStatusPage serves the status page at / (behind the API credentials
// unless serve.status_page is public), the pair switch endpoints its
// buttons call, and the health, failover and (PostgreSQL state) range
// task metrics on reg. A manual switch made there is told to the alerts
// like any other.
func addStatusPage(log *slog.Logger, p *config.Project, st *state.Store, srv *server.Server, reg *metrics.Registry,
	alerts *alert.Manager, settings config.ServeSettings, node *cluster.Node) error {
	pairs, err := failover.PairsFrom(p)
	if err != nil {
		return &exitError{code: exitConfig, err: err}
	}
	streams := map[string][]string{}
	for _, name := range p.ConnectionNames() {
		for _, s := range p.Connections[name].SelectedStreams() {
			streams[name] = append(streams[name], s.Name)
		}
	}
	policy := failover.PolicyFrom(p.Settings.Failover)
	reg.MustRegister(metrics.NewStatus(st, pairs, log).WithConnections(streams).WithPolicy(policy))
	reg.MustRegister(node.Collectors()...)
	reg.MustRegister(metrics.NewScratch(scratch.Dir{Root: p.Settings.Sync.SpoolDir}, log))
	if st.Engine() == "postgres" { // range tasks: scale-out runs on a shared state only
		budgets := map[string]int{}
		for _, name := range p.ConnectionNames() {
			if src := p.Connections[name].Source; src != nil {
				budgets[src.ResourceName] = p.Settings.Sync.MaxParallelReads
			}
		}
		reg.MustRegister(metrics.NewRanges(st, budgets, log))
	}
	pg, err := page.New(page.Options{Project: p, State: st, Pairs: pairs, Policy: policy, Log: log, Replicas: node.Members})
	if err != nil {
		return err
	}
	public := settings.StatusPage == config.StatusPagePublic || settings.Auth == config.AuthNone
	srv.HandlePage(pg, page.AssetPrefix, page.Assets(), public)
	srv.HandlePairSwitches(server.PairSwitches{State: st, Pairs: pairs, Policy: policy, Log: log,
		OnSwitch: func(ctx context.Context, d failover.Decision) {
			if d.Transition == nil || alerts == nil {
				return
			}
			if err := alerts.FailoverChanged(ctx, d.Pair, d.Transition.From, d.Transition.To, d.Transition.Reason, nil); err != nil {
				log.Warn("alert on a manual switch", "pair", d.Pair, "err", err)
			}
		}})
	srv.Handle("GET /api/acode/cluster", srv.RequireAuth(cluster.Handler(node)))
	return nil
}

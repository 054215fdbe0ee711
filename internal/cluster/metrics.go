package cluster

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collectors are the Node's metrics: acode_cluster_leader (1 while this
// replica leads; summed over replicas it must be 1, and 0 means no health
// round, failover or schedule runs anywhere) and acode_cluster_replicas
// (the live replicas this one sees in the store).
func (n *Node) Collectors() []prometheus.Collector {
	leader := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "acode", Name: "cluster_leader",
		Help: "1 while this acode serve replica leads the cluster-wide loops (health, failover, alerts, schedules), else 0.",
	}, func() float64 {
		if n.IsLeader() {
			return 1
		}
		return 0
	})
	replicas := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "acode", Name: "cluster_replicas",
		Help: "acode serve replicas sharing the state store, as this one sees them.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ms, err := n.Members(ctx)
		if err != nil {
			return 0
		}
		return float64(len(ms))
	})
	return []prometheus.Collector{leader, replicas}
}

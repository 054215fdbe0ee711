package cluster

import (
	"encoding/json"
	"net/http"
	"time"
)

// memberView is one replica in GET /api/acode/cluster.
type memberView struct {
	ID        string    `json:"id"`
	Addr      string    `json:"addr"`
	Leader    bool      `json:"leader"`
	Self      bool      `json:"self"`
	StartedAt time.Time `json:"started_at"`
	SeenAt    time.Time `json:"seen_at"`
}

type clusterView struct {
	Self     string       `json:"self"`
	Leader   string       `json:"leader"` // "" while an election is under way
	IsLeader bool         `json:"is_leader"`
	Replicas []memberView `json:"replicas"`
}

// Handler answers GET /api/acode/cluster: this replica, the leader, and
// every live replica. Any replica gives the same list.
func Handler(n *Node) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ms, err := n.Members(r.Context())
		if err != nil {
			n.log.Error("cluster members", "err", err)
			http.Error(w, `{"error":"the replicas could not be read from the state store; see the service log"}`, http.StatusInternalServerError)
			return
		}
		v := clusterView{Self: n.ID(), Leader: n.Leader(), IsLeader: n.IsLeader(), Replicas: []memberView{}}
		for _, m := range ms {
			v.Replicas = append(v.Replicas, memberView{ID: m.ID, Addr: m.Addr, Leader: m.Leader, Self: m.Self,
				StartedAt: m.StartedAt, SeenAt: m.SeenAt})
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(v)
	}
}

package pairsync

import (
	"context"
	"errors"

	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/drift"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/mysql"
)

// driftCheck compares each stream's table, as the source has it now, with
// the schema its connection's last commit recorded (package drift). It
// returns a *failure.SourceError wrapping a *drift.Error on a breaking
// change, and nil when nothing breaks or the check cannot run (a source
// that does not answer fails the sync itself, which classifies that
// failure; a missing table fails the sync as schema_change by itself).
func (r *run) driftCheck(ctx context.Context, connName string) error {
	conn := r.o.Project.Connections[connName]
	hs := r.o.Project.Settings.Health
	sync := r.o.Project.Settings.Sync
	sync.ConnectTimeout, sync.ReadTimeout = hs.ConnectTimeout, hs.QueryTimeout
	db, err := connect.Source(ctx, conn.Source, sync, 1)
	if err != nil {
		return nil
	}
	defer db.Close()
	store, err := connect.Store(ctx, conn.Destination)
	if err != nil {
		return nil
	}
	for _, s := range conn.SelectedStreams() {
		ns := conn.Namespace(s)
		rep, _, err := drift.Discover(ctx, db, r.o.State, store, connName, ns, s.Name)
		var missing *mysql.TableNotFoundError
		if err != nil {
			if !errors.Is(err, drift.ErrNoCommit) && !errors.As(err, &missing) {
				r.o.log().Warn("drift check", "stream", s.Name, "err", err)
			}
			continue
		}
		if len(rep.Breaking()) > 0 {
			return &failure.SourceError{Stream: s.Name, Err: &drift.Error{Connection: connName, Report: rep}}
		}
	}
	return nil
}

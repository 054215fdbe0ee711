package cdc

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
)

// liveSource is the one owner of the server a reader reads now: the binlog
// client and every SQL read of the reader (columns discovered again after
// DDL, a purge's re-backfill, the current position, the binlog retention)
// go to the same server. When the run continues on the pair's other
// server, switchTo names it and the next SQL read opens a pool there and
// closes the old one: a DDL or a re-backfill after a failover is read from
// the server whose binlog showed it, not from the one left (often dead).
type liveSource struct {
	sources map[string]*config.Source // by Endpoint.Name (resource_name)
	sync    config.SyncSettings

	mu     sync.Mutex
	want   string  // the server read now
	name   string  // the server db is a pool of
	db     *sql.DB // nil after a switch until the first SQL read
	closed bool
}

func newLiveSource(db *sql.DB, read *config.Source, other *config.Source, st config.SyncSettings) *liveSource {
	l := &liveSource{sources: map[string]*config.Source{read.ResourceName: read}, sync: st,
		want: read.ResourceName, name: read.ResourceName, db: db}
	if other != nil {
		l.sources[other.ResourceName] = other
	}
	return l
}

// switchTo makes ep the server SQL reads go to and closes the pool of the
// one left (queries running on it finish first). The new pool is opened on
// first use, so a switch never waits for a server: the binlog client
// reaches it, or the run switches again.
func (l *liveSource) switchTo(ep Endpoint) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.want = ep.Name
	if l.db != nil && l.name != l.want {
		l.db.Close()
		l.db = nil
	}
}

// DB is the pool of the server read now, opened there after a switch.
func (l *liveSource) DB(ctx context.Context) (*sql.DB, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("cdc reader of %s: %w", l.want, sql.ErrConnDone)
	}
	if l.db != nil {
		return l.db, nil
	}
	src, ok := l.sources[l.want]
	if !ok {
		return nil, fmt.Errorf("cdc reader: no source named %s in its failover pair", l.want)
	}
	db, err := connect.Source(ctx, src, l.sync, 3)
	if err != nil {
		return nil, err
	}
	l.db, l.name = db, l.want
	return db, nil
}

// server is the name of the server read now.
func (l *liveSource) server() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.want
}

func (l *liveSource) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.db != nil {
		l.db.Close()
		l.db = nil
	}
}

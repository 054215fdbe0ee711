package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/connect"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/schema"
	"github.com/acode-dev/acode/internal/scratch"
	"github.com/acode-dev/acode/internal/snapshot"
)

// Streams returns a CDC connection's streams whose changes are landed:
// the selected incremental ones (full_refresh streams stay with `acode
// sync`). A stream whose destination_sync_mode cannot take a change log is
// an error naming it.
func Streams(conn *config.Connection) ([]config.Stream, error) {
	if conn.Source == nil || conn.Source.ReplicationMethod != config.ReplicationCDC {
		return nil, fmt.Errorf("%w: the source of %s has replication_method STANDARD; set replication_method: {method: CDC} in %s",
			ErrNotCDC, conn.ResourceName, sourceFile(conn))
	}
	var out []config.Stream
	for _, s := range conn.SelectedStreams() {
		if s.SyncMode != config.SyncIncremental {
			continue
		}
		if s.DestinationSyncMode != config.DestAppend && s.DestinationSyncMode != config.DestAppendDedup {
			return nil, fmt.Errorf("%w: stream %s of %s: destination_sync_mode %s; a change log needs append or append_dedup",
				ErrNotCDC, s.Name, conn.ResourceName, s.DestinationSyncMode)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s has no selected stream with sync_mode incremental", ErrNotCDC, conn.ResourceName)
	}
	return out, nil
}

func sourceFile(conn *config.Connection) string {
	if conn.Source == nil {
		return "its source"
	}
	return conn.Source.File
}

// ReadSource is the source a connection's reader takes the binlog from:
// with read_from backup, the backup side of the connection's failover pair
// when it is a pair's primary; the connection's own source otherwise. role
// is primary or backup.
func ReadSource(p *config.Project, conn *config.Connection) (src *config.Source, role string, err error) {
	read, _, role, err := sources(p, conn)
	return read, role, err
}

// sources returns the source read, the other side of the connection's
// failover pair (nil when it is in none), and the role of the one read.
func sources(p *config.Project, conn *config.Connection) (read, other *config.Source, role string, err error) {
	pairs, err := p.FailoverPairs()
	if err != nil {
		return nil, nil, "", err
	}
	primary, backup := conn.Source, (*config.Source)(nil)
	for _, pair := range pairs {
		if pair.Primary == conn.ResourceName {
			if b, ok := p.Connections[pair.Backup]; ok && b.Source != nil {
				backup = b.Source
			}
		}
		if pair.Backup == conn.ResourceName {
			if pc, ok := p.Connections[pair.Primary]; ok && pc.Source != nil {
				primary, backup = pc.Source, conn.Source
			}
		}
	}
	if backup == nil {
		return conn.Source, nil, "primary", nil
	}
	if p.Settings.CDC.ReadFrom == config.CDCReadBackup {
		return backup, primary, "backup", nil
	}
	return primary, backup, "primary", nil
}

// Opened is a reader's configuration with the resources it holds.
type Opened struct {
	Config
	live *liveSource
}

// Retention reads the binlog files the source read holds, the start
// position of the first ones (see ReadRetention).
func (o *Opened) Retention(ctx context.Context, first int) (Retention, error) {
	db, err := o.live.DB(ctx)
	if err != nil {
		return Retention{}, err
	}
	return ReadRetention(ctx, db, first)
}

// Close releases the source pool.
func (o *Opened) Close() { o.live.close() }

// Open builds the reader of connection name: it connects to the source
// read, discovers the landed tables, and opens the destination.
func Open(ctx context.Context, p *config.Project, name string, cursors CursorStore, log *slog.Logger) (*Opened, error) {
	conn, err := p.Connection(name)
	if err != nil {
		return nil, err
	}
	streams, err := Streams(conn)
	if err != nil {
		return nil, err
	}
	if err := oneReader(p, conn); err != nil {
		return nil, err
	}
	src, other, role, err := sources(p, conn)
	if err != nil {
		return nil, err
	}
	db, err := connect.Source(ctx, src, p.Settings.Sync, 3)
	if err != nil && other != nil {
		// The server read is down (a primary killed, say): the reader
		// starts on the pair's other server, from the same GTIDs, and
		// keeps the first as its fallback.
		odb, oerr := connect.Source(ctx, other, p.Settings.Sync, 3)
		if oerr != nil {
			return nil, errors.Join(err, oerr)
		}
		log.Warn("cdc: the server read does not answer; the reader starts on the other server of the pair",
			"server", src.ResourceName, "err", err, "instead", other.ResourceName)
		db, err, src, other, role = odb, nil, other, src, otherRole(role)
	}
	if err != nil {
		return nil, err
	}
	o := &Opened{live: newLiveSource(db, src, other, p.Settings.Sync)}
	if err := o.build(ctx, db, p, conn, streams, src, other, role, cursors, log); err != nil {
		o.live.close()
		return nil, err
	}
	return o, nil
}

func (o *Opened) build(ctx context.Context, db *sql.DB, p *config.Project, conn *config.Connection, streams []config.Stream,
	src, other *config.Source, role string, cursors CursorStore, log *slog.Logger) error {
	tables, err := discover(ctx, db, conn, streams)
	if err != nil {
		return err
	}
	ep, err := endpoint(ctx, db, src, p.Settings.Sync)
	if err != nil {
		return err
	}
	store, err := connect.Store(ctx, conn.Destination)
	if err != nil {
		return err
	}
	server, err := mysql.ServerInfo(ctx, db)
	if err != nil {
		return fmt.Errorf("source %s: %w", src.ResourceName, err)
	}
	if FlavorOf(server.Version) != FlavorMariaDB {
		return fmt.Errorf("%w: source %s is MySQL %s: the binlog reader follows MariaDB GTIDs only (MySQL GTID sets are parsed and compared, see MySQLSet, but not yet read from the binlog)",
			ErrServerSettings, src.ResourceName, server.Version)
	}
	ep.Source = snapshot.Source{Role: role, Name: src.ResourceName, Host: src.Host, Port: src.Port,
		Database: src.Database, ServerVersion: server.Version}
	var fallback []Endpoint
	if other != nil {
		fallback = append(fallback, otherEndpoint(ep, other, role))
	}
	st, cdc := p.Settings.Sync, p.Settings.CDC
	f := conn.Destination.Format
	root := st.SpoolDir
	if root == "" {
		root = os.TempDir()
	}
	spool := scratch.Dir{Root: root}.CDC(conn.ResourceName)
	o.Config = Config{
		Connection:  conn.ResourceName,
		Endpoint:    ep,
		Fallback:    fallback,
		SwitchAfter: cdc.SwitchAfter,
		Reader: ReaderConfig{ServerID: uint32(cdc.ServerID), Heartbeat: cdc.Heartbeat, ReadTimeout: cdc.ReadTimeout,
			SpillBytes: int64(cdc.SpillMB) << 20},
		Tables: tables,
		Sink: &Sink{
			Store: store, BucketPath: conn.Destination.BucketPath, PathFormat: conn.Destination.PathFormat,
			Connection: conn.ResourceName,
			Source:     ep.Source,
			// The row group being built waits in the spool dir, not in
			// memory: a reader keeps one file open per stream, and a big
			// transaction fills a whole row group (64 MiB of pages each).
			Options: parquet.Options{Codec: f.CompressionCodec, PageBytes: f.PageSizeKB << 10,
				Dictionary: f.DictionaryEncoding, RowGroupRows: st.RowGroupRows, RowGroupBytes: int64(st.RowGroupMB) << 20,
				SpoolDir: spool},
			Mode: parquet.Mode(st.Types), TypeMode: st.Types, SpoolDir: spool, Log: log,
		},
		Cursors:       cursors,
		FlushInterval: cdc.FlushInterval,
		FlushBytes:    int64(cdc.FlushMB) << 20,
		RetryMax:      cdc.RetryMax,
		Current: func(ctx context.Context) (Position, error) {
			db, err := o.live.DB(ctx)
			if err != nil {
				return nil, err
			}
			return CurrentPosition(ctx, db)
		},
		Switched: o.live.switchTo,
		Log:      log,
		Stats:    &Stats{},
	}
	o.Config.Discover = func(ctx context.Context, t *Table) (schema.Table, error) {
		db, err := o.live.DB(ctx)
		if err != nil {
			return schema.Table{}, err
		}
		found, err := mysql.Discover(ctx, db, t.Source.Namespace, []string{t.Source.Name})
		if err != nil {
			return schema.Table{}, err
		}
		return found[0], nil
	}
	if cdc.Backfill {
		o.Config.Backfill = &Backfill{DB: o.live.DB, ChunkRows: st.ChunkRows}
	}
	o.Config.Retention = func(ctx context.Context) (Retention, error) { return o.Retention(ctx, 1) }
	o.Config.Resync = conn.Source.InvalidCursor == config.CursorResync
	return nil
}

func discover(ctx context.Context, db *sql.DB, conn *config.Connection, streams []config.Stream) ([]*Table, error) {
	var out []*Table
	for _, s := range streams {
		ns := conn.Namespace(s)
		found, err := mysql.Discover(ctx, db, ns, []string{s.Name})
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", s.Name, err)
		}
		out = append(out, &Table{Stream: s, Source: found[0], Name: ChangeLogName(s)})
	}
	return out, nil
}

// endpoint is where the binlog client connects, with the source's TLS
// mode: preferred uses TLS when the server has it.
func endpoint(ctx context.Context, db *sql.DB, src *config.Source, st config.SyncSettings) (Endpoint, error) {
	cc := connect.SourceConfig(src, st, 1)
	tc, fallback, err := cc.TLSConfig()
	if err != nil {
		return Endpoint{}, fmt.Errorf("source %s: %w", src.ResourceName, err)
	}
	if tc != nil && fallback {
		var have string
		if err := db.QueryRowContext(ctx, "SELECT @@have_ssl").Scan(&have); err != nil || !strings.EqualFold(have, "YES") {
			tc = nil
		}
	}
	return Endpoint{Name: src.ResourceName, Host: src.Host, Port: src.Port, User: src.Username,
		Password: src.Password.Reveal(), TLS: tc}, nil
}

// otherEndpoint is the pair's other server, reached like the one read (a
// preferred TLS mode decided there holds for the topology).
func otherEndpoint(read Endpoint, src *config.Source, readRole string) Endpoint {
	role := otherRole(readRole)
	ep := Endpoint{Name: src.ResourceName, Host: src.Host, Port: src.Port, User: src.Username,
		Password: src.Password.Reveal(), TLS: read.TLS}
	ep.Source = snapshot.Source{Role: role, Name: src.ResourceName, Host: src.Host, Port: src.Port, Database: src.Database}
	return ep
}

// CurrentPosition is the server's @@gtid_binlog_pos: the last transaction
// of each domain in its binlog.
func CurrentPosition(ctx context.Context, db *sql.DB) (Position, error) {
	var s string
	if err := db.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&s); err != nil {
		return nil, fmt.Errorf("read @@gtid_binlog_pos: %w", err)
	}
	return ParsePosition(s)
}

// otherRole is the role of a pair's other side.
func otherRole(role string) string {
	if role == "primary" {
		return "backup"
	}
	return "primary"
}

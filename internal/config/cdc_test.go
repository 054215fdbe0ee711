package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// cdcSource is the minimal source switched to CDC in Airbyte's shape, with
// source-mysql's tuning keys acode accepts.
var cdcSource = edit{srcFile, "  ssl_mode:\n", `  replication_method:
    method: CDC
    initial_waiting_seconds: 300
    server_time_zone: UTC
    invalid_cdc_cursor_position_behavior: Fail sync
  ssl_mode:
`}

func TestLoad_CDCSourceTakesIncrementalStreamsWithoutCursor(t *testing.T) {
	t.Parallel()
	p, err := Load(writeProject(t, cdcSource,
		edit{connFile, "sync_mode: full_refresh", "sync_mode: incremental\n          destination_sync_mode: append_dedup\n          primary_key: [[id]]"}), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Connections["conn"]
	if c.Source.ReplicationMethod != ReplicationCDC || c.Streams[0].SyncMode != SyncIncremental || c.Streams[0].DestinationSyncMode != DestAppendDedup {
		t.Errorf("source %s, stream %+v", c.Source.ReplicationMethod, c.Streams[0])
	}
	if got := p.Settings.CDC; got.FlushInterval != time.Minute || got.ReadFrom != CDCReadBackup || got.ReadTimeout <= got.Heartbeat {
		t.Errorf("cdc defaults: %+v", got)
	}
}

func TestLoad_StandardSourceStillNeedsACursorField(t *testing.T) {
	t.Parallel()
	_, err := Load(writeProject(t, edit{connFile, "sync_mode: full_refresh", "sync_mode: incremental"}), minimalEnv)
	if err == nil || !strings.Contains(err.Error(), "cursor_field") {
		t.Errorf("err = %v, want a cursor_field error", err)
	}
}

func TestLoad_CDCSettings(t *testing.T) {
	t.Parallel()
	p, err := Load(writeProject(t, edit{SettingsFile, "", "cdc:\n  flush_interval: 10s\n  flush_mb: 16\n  read_from: primary\n  server_id: 77\n"}), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Settings.CDC; got.FlushInterval != 10*time.Second || got.FlushMB != 16 || got.ReadFrom != CDCReadPrimary || got.ServerID != 77 {
		t.Errorf("cdc: %+v", got)
	}
	for _, tt := range []struct{ yaml, key string }{
		{"cdc:\n  read_from: replica\n", "cdc.read_from"},
		{"cdc:\n  flush_interval: 10ms\n", "cdc.flush_interval"},
		{"cdc:\n  heartbeat: 30s\n  read_timeout: 20s\n", "cdc.read_timeout"},
		{"cdc:\n  flush_every: 1s\n", "cdc.flush_every"},
	} {
		_, err := Load(writeProject(t, edit{SettingsFile, "", tt.yaml}), minimalEnv)
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.key) || !strings.Contains(err.Error(), "acode.yaml") {
			t.Errorf("%q: err = %v, want an error at %s in acode.yaml", tt.yaml, err, tt.key)
		}
	}
}

func TestLoad_InvalidCDCCursorBehaviorIsAirbytesChoice(t *testing.T) {
	t.Parallel()
	resync := edit{srcFile, "  ssl_mode:\n", "  replication_method:\n    method: CDC\n    invalid_cdc_cursor_position_behavior: Re-sync data\n  ssl_mode:\n"}
	p, err := Load(writeProject(t, resync), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Connections["conn"].Source.InvalidCursor; got != CursorResync {
		t.Errorf("invalid_cdc_cursor_position_behavior Re-sync data: %q", got)
	}
	p, err = Load(writeProject(t, cdcSource), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Connections["conn"].Source.InvalidCursor; got != CursorFailSync {
		t.Errorf("invalid_cdc_cursor_position_behavior Fail sync: %q", got)
	}
	bad := edit{srcFile, "  ssl_mode:\n", "  replication_method:\n    method: CDC\n    invalid_cdc_cursor_position_behavior: Retry\n  ssl_mode:\n"}
	_, err = Load(writeProject(t, bad), minimalEnv)
	if err == nil || !strings.Contains(err.Error(), "invalid_cdc_cursor_position_behavior") || !strings.Contains(err.Error(), "Re-sync data") {
		t.Errorf("err = %v, want an error naming the key and the values", err)
	}
}

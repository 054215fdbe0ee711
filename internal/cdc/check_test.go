package cdc_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/cdc"
	"github.com/acode-dev/acode/internal/mysql"
	"github.com/acode-dev/acode/internal/testenv"
)

func checkAs(t *testing.T, m *testenv.MariaDB, user string) map[string]cdc.Finding {
	t.Helper()
	db, err := mysql.Open(context.Background(), mysql.ConnConfig{Host: m.Host, Port: m.Port, User: user, Password: "pw", TLSMode: mysql.TLSDisabled})
	if err != nil {
		t.Fatal(err)
	}
	defer func(db *sql.DB) { db.Close() }(db)
	fs, err := cdc.CheckServer(context.Background(), db, 4200001)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]cdc.Finding{}
	for _, f := range fs {
		out[f.Check] = f
	}
	return out
}

func TestCheckServer_NamesEachMissingSettingAndPrivilegeWithItsFix(t *testing.T) {
	t.Parallel()
	bare := testenv.StartMariaDB(t, testenv.MariaDBOptions{Args: []string{"--binlog-expire-logs-seconds=3600"}})
	bare.CreateUser(t, "reader", "pw", false, "SELECT ON *.*")
	got := checkAs(t, bare, "reader")
	for _, name := range []string{"binlog_row_metadata", "binlog retention", "privilege REPLICATION SLAVE", "privilege BINLOG MONITOR", "privilege SLAVE MONITOR"} {
		f, ok := got[name]
		if !ok || f.OK || f.Fix == "" {
			t.Errorf("%s: %+v, want a failed finding with a fix", name, f)
		}
	}
	if f := got["binlog_row_metadata"]; f.Have != "NO_LOG" || !strings.Contains(f.Fix, "binlog_row_metadata = 'FULL'") {
		t.Errorf("binlog_row_metadata: %+v", f)
	}
	for _, name := range []string{"log_bin", "binlog_format", "binlog_row_image", "gtid_strict_mode", "privilege SELECT", "server_id"} {
		if !got[name].OK {
			t.Errorf("%s: %+v, want ok", name, got[name])
		}
	}

	primary := testenv.StartMariaDB(t, binlogArgs)
	replica := testenv.StartReplica(t, primary, binlogArgs)
	primary.CreateUser(t, "reader", "pw", false, "SELECT, REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR ON *.*")
	replica.WaitReplicaCaughtUp(t, primary)
	got = checkAs(t, replica, "reader")
	for name, f := range got {
		if !f.OK {
			t.Errorf("replica set up for CDC: %s failed: %+v", name, f)
		}
	}
	if _, ok := got["log_slave_updates"]; !ok {
		t.Error("a replica's log_slave_updates is not checked")
	}
}

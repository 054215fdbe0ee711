package alert

import (
	"context"
	"strings"
	"testing"
)

func TestCDCRetention_RaisedNearTheOldestBinlogClearedAfter(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	const conn = "connection_mysql_local_acode"
	ctx := context.Background()
	if err := r.m.CDCRetention(ctx, conn, "source_mysql_acode_backup", "0-1-80", "mysql-bin.000003", 0, 1, true); err != nil {
		t.Fatal(err)
	}
	r.evaluate(t)
	if open := r.m.Open(); len(open) != 1 || open[0].Key != "cdc_binlog_retention/"+conn {
		t.Fatalf("open conditions: %+v", open)
	}
	s := r.recv.at(slackPath)
	if len(s) != 1 || !strings.Contains(s[0].Raw, "mysql-bin.000003") || !strings.Contains(s[0].Raw, "0-1-80") {
		t.Fatalf("slack messages: %v", s)
	}
	if err := r.m.CDCRetention(ctx, conn, "source_mysql_acode_backup", "0-1-95", "mysql-bin.000003", 2, 1, false); err != nil {
		t.Fatal(err)
	}
	r.evaluate(t)
	if open := r.m.Open(); len(open) != 1 || !open[0].Clearing {
		t.Fatalf("open conditions after the reader moved on: %+v, want the condition clearing", open)
	}
}

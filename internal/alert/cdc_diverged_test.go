package alert

import (
	"context"
	"strings"
	"testing"
)

func TestCDCDiverged_NamesTheOrphanGTIDs(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	const conn = "connection_mysql_local_acode"
	if err := r.m.CDCDiverged(context.Background(), conn, "source_mysql_acode_backup", "0-1-79", "0-1-72",
		"0-1-73, 0-1-74, 0-1-75, 0-1-76, 0-1-77, 0-1-78, 0-1-79", 7, 23); err != nil {
		t.Fatal(err)
	}
	r.evaluate(t)
	open := r.m.Open()
	if len(open) != 1 || open[0].Key != "cdc_diverged/"+conn {
		t.Fatalf("open conditions: %+v", open)
	}
	s := r.recv.at(slackPath)
	if len(s) != 1 || !strings.Contains(s[0].Raw, "0-1-73, 0-1-74") || !strings.Contains(s[0].Raw, "0-1-79") || !strings.Contains(s[0].Raw, "source_mysql_acode_backup") {
		t.Fatalf("slack messages: %v", s)
	}
}

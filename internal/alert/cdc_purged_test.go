package alert

import (
	"context"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/failure"
)

func TestCDCPurged_CriticalWhenTheReaderStopsWarningWhenItResyncs(t *testing.T) {
	t.Parallel()
	for _, resync := range []bool{false, true} {
		r := newRig(t, nil)
		const conn = "connection_mysql_local_acode"
		if err := r.m.CDCPurged(context.Background(), conn, "source_mysql_acode_backup", "mysql-bin.000007", "0-1-140",
			[]string{"diario_cdc", "complemento_cdc"}, []string{"0-1-80", "0-1-80"}, resync); err != nil {
			t.Fatal(err)
		}
		r.evaluate(t)
		open := r.m.Open()
		want := failure.Critical
		if resync {
			want = failure.Warning
		}
		if len(open) != 1 || open[0].Key != "cdc_binlog_purged/"+conn || open[0].Severity != want {
			t.Fatalf("resync %v: open conditions %+v, want cdc_binlog_purged %s", resync, open, want)
		}
		s := r.recv.at(slackPath)
		if len(s) != 1 || !strings.Contains(s[0].Raw, "mysql-bin.000007") || !strings.Contains(s[0].Raw, "diario_cdc, complemento_cdc") ||
			!strings.Contains(s[0].Raw, "0-1-80") || strings.Contains(s[0].Raw, "Re-sync data)") != resync {
			t.Fatalf("resync %v: slack messages %v", resync, s)
		}
	}
}

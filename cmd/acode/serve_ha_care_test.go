package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/configexport"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestServeHA_ThreeReplicasRunTheMonthlyCareAndMailTheReportsOnce starts
// three `acode serve` on one PostgreSQL state with a last month that holds
// a committed snapshot (restored there from this month's archive) and
// report slots last fired 40 days ago: across the replicas the config
// backup is uploaded once, last month is archived once, and the weekly and
// monthly reports arrive once each at the SMTP receiver.
func TestServeHA_ThreeReplicasRunTheMonthlyCareAndMailTheReportsOnce(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 300, s3)
	const conn, stream = "connection_mysql_s3_acode", "farmarcas_si_analitico_diario"
	if _, errOut, code := acode(t, p, "sync", conn); code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, errOut)
	}
	// Last month gets a committed snapshot of one stream through the real
	// commands: archive this month, restore it into a day of last month.
	now := time.Now().UTC()
	thisMonth := now.Format("2006-01")
	lastMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	if _, errOut, code := acode(t, p, "archive", "--connection", conn, "--month", thisMonth); code != 0 {
		t.Fatalf("archive: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := acode(t, p, "archive", "restore", "--connection", conn, "--month", thisMonth,
		"--stream", stream, "--to", lastMonth.AddDate(0, 0, 14).Format(time.DateOnly)); code != 0 {
		t.Fatalf("restore into last month: exit %d\n%s", code, errOut)
	}

	dbURL := testenv.SharedPostgres(t).NewDatabase(t)
	sink := newSMTPSink(t)
	p.Edit(t, "acode.yaml", "state_db: .acode/state.db", "state_db: "+dbURL)
	f, err := os.OpenFile(filepath.Join(p.Dir, "acode.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "alerts:\n  email:\n    smtp_host: 127.0.0.1\n    smtp_port: %d\n    tls: none\n    from: acode@test\n    to: [team@test]\n",
		sink.ln.Addr().(*net.TCPAddr).Port)
	f.Close()
	st, err := state.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The seam the scheduler has: a slot missed while serve was down fires
	// once at the next start. The report slots last fired 40 days ago.
	for _, name := range []string{"email:weekly_report", "email:monthly_report"} {
		if _, err := st.ClaimScheduleFire(context.Background(), name, time.Time{}, now.AddDate(0, 0, -40)); err != nil {
			t.Fatal(err)
		}
	}

	var reps []*serveProcess
	for range 3 {
		reps = append(reps, startServe(t, p))
	}
	logs := func(what string) int {
		n := 0
		for _, r := range reps {
			n += strings.Count(r.stderr.String(), what)
		}
		return n
	}
	mails := func(kind string) int {
		n := 0
		for _, m := range sink.messages() {
			if strings.Contains(m, "ACODE "+kind+" report") {
				n++
			}
		}
		return n
	}
	slot := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	waitUntil(t, 90*time.Second, "the monthly care recorded and both reports mailed", func() bool {
		at, err := st.ScheduleFire(context.Background(), monthlyCareSchedule)
		return err == nil && at.Equal(slot) && mails("weekly") > 0 && mails("monthly") > 0
	})
	backup := s3.ObjectPath(p.Bucket, configBackupPrefix+"/"+configexport.ObjectName(now))
	if _, err := os.Stat(backup); err != nil {
		t.Errorf("no config backup: %v", err)
	}
	archived := s3.ObjectPath(p.Bucket, "acode_historical/monthly_snapshots/"+conn+"/"+stream+"/"+lastMonth.Format("2006-01")+"/_acode_manifest.json")
	if _, err := os.Stat(archived); err != nil {
		t.Errorf("last month was not archived: %v", err)
	}
	// All three have joined and name one leader: a second runner would
	// have been a second leader.
	waitUntil(t, 40*time.Second, "one leader named by all three replicas", func() bool {
		first := reps[0].cluster(t)
		for _, r := range reps[1:] {
			if c := r.cluster(t); first.Leader == "" || c.Leader != first.Leader || len(c.Replicas) != 3 {
				return false
			}
		}
		return true
	})
	if n := logs("monthly config backup"); n != 1 {
		t.Errorf("config backup uploaded %d times across the replicas, want 1", n)
	}
	if n := logs("month archived"); n != 1 {
		t.Errorf("last month archived %d times across the replicas, want 1", n)
	}
	if w, m := mails("weekly"), mails("monthly"); w != 1 || m != 1 {
		t.Errorf("mails: %d weekly, %d monthly, want 1 each", w, m)
	}
	recs, err := st.Alerts(context.Background(), state.AlertFilter{Condition: "report/weekly"})
	if err != nil || len(recs) != 1 || recs[0].Status != state.AlertSent {
		t.Errorf("alert log of the weekly report: %+v, %v", recs, err)
	}
}

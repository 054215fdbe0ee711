package alert

import (
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// dayOfActivity fills a store with a day of jobs, checks, a failover, a
// quality report and an alert, plus an older job outside the window.
func dayOfActivity(t *testing.T, clock *fakeClock) *state.Store {
	t.Helper()
	ctx := context.Background()
	st, err := state.Open(ctx, t.TempDir()+"/state.db", state.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	job := func(conn, source string, status state.JobStatus, errMsg string, rows int64) {
		j, err := st.CreateJob(ctx, conn, source, "test:1")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.FinishJob(ctx, j.ID, status, errMsg, rows, rows*100); err != nil {
			t.Fatal(err)
		}
	}
	job("connection_mysql_s3_acode", "primary", state.JobSucceeded, "", 999) // two days ago: outside
	clock.Advance(47 * time.Hour)
	job("connection_mysql_s3_acode", "primary", state.JobFailed, "connect: connection refused", 0)
	clock.Advance(time.Hour)
	job("connection_mysql_s3_acode", "backup", state.JobSucceeded, "", 50_000_000)
	if err := st.RecordHealth(ctx, []state.HealthRecord{
		{Check: "mysql_connectivity", Target: "primary", Status: "critical", Message: "connection refused"},
		{Check: "replication_lag", Target: "backup", Status: "ok", Message: "lag 3s"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateFailover(ctx, "connection_mysql_s3_acode", state.FailoverState{State: "primary_active"},
		func(fs *state.FailoverState) ([]state.FailoverTransition, error) {
			fs.State = "backup_active"
			return []state.FailoverTransition{{From: "primary_active", To: "backup_active", Who: "auto", Reason: "primary_db_down"}}, nil
		}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveQualityReport(ctx, state.QualityReport{JobID: 3, Connection: "connection_mysql_s3_acode",
		Stream: "farmarcas_si_analitico_diario", Partition: "2025-08-09", Status: "committed", Score: 98.5, Warnings: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordAlert(ctx, state.AlertRecord{Condition: "primary_unavailable/connection_mysql_s3_acode", Severity: "critical",
		Event: "raised", Sink: "slack", Title: "Primary unavailable: connection_mysql_s3_acode", Status: state.AlertSent}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	return st
}

func TestDailyReport_SummarisesTheLastDayAndArrivesBySMTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newClock()
	st := dayOfActivity(t, clock)
	open := []OpenCondition{{Key: "primary_unavailable/connection_mysql_s3_acode", Severity: failure.Critical, Since: clock.Now().Add(-time.Hour),
		Details: Details{Title: "Primary unavailable: connection_mysql_s3_acode"}}}
	r, err := BuildReport(ctx, st, clock.Now(), 24*time.Hour, open)
	if err != nil {
		t.Fatal(err)
	}
	r.System, r.StatusURL = "ACODE Pipeline", "http://acode.test:8001/"

	srv := newSMTPServer(t)
	const password = "smtpP4ssw0rdS3cret"
	m, err := NewMailer(MailOptions{Host: "127.0.0.1", Port: srv.port(), TLS: config.SMTPNone, Username: "acode", Password: password,
		From: "acode@farmarcas.test", To: []string{"stakeholders@farmarcas.test", "oncall-data@farmarcas.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(ctx, r.Subject(), r.Text()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	mails := srv.received()
	if len(mails) != 1 {
		t.Fatalf("%d mails, want 1", len(mails))
	}
	got := mails[0]
	if got.From != "acode@farmarcas.test" || strings.Join(got.To, ",") != "stakeholders@farmarcas.test,oncall-data@farmarcas.test" ||
		got.Auth != "\x00acode\x00"+password {
		t.Errorf("envelope: from %q to %v auth %q", got.From, got.To, got.Auth)
	}
	head, body, _ := strings.Cut(got.Data, "\r\n\r\n")
	text, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	var subject string
	for _, l := range strings.Split(head, "\r\n") {
		if s, ok := strings.CutPrefix(l, "Subject: "); ok {
			subject, _ = new(mime.WordDecoder).DecodeHeader(s)
		}
	}
	if subject != "[acode] ACODE Pipeline daily status 2025-08-09: 4 item(s) need attention" {
		t.Errorf("subject %q", subject)
	}
	for _, want := range []string{
		"status from 2025-08-08 03:00 UTC to 2025-08-09 03:00 UTC",
		"1 failed job(s) of connection_mysql_s3_acode",
		"mysql_connectivity on primary is critical",
		"1 failover transition(s)",
		"open critical alert: Primary unavailable: connection_mysql_s3_acode",
		"connection_mysql_s3_acode: 1 succeeded (1 from the backup), 1 failed, 0 cancelled; 50000000 rows",
		"last error: connect: connection refused",
		"replication_lag backup: now ok; 1 runs, 0 warning, 0 critical",
		"connection_mysql_s3_acode: primary_active -> backup_active (auto): primary_db_down",
		"farmarcas_si_analitico_diario 2025-08-09: score 98.5, 0 error(s), 1 warning(s), committed",
		"slack raised critical: Primary unavailable: connection_mysql_s3_acode",
		"Status page: http://acode.test:8001/",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("body lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(string(text), "999 rows") {
		t.Error("a job older than 24 h is in the report")
	}
	if !strings.Contains(head, "Content-Type: text/plain; charset=utf-8") {
		t.Errorf("headers: %s", head)
	}
}

func TestDailyReport_QuietDayIsAllGood(t *testing.T) {
	t.Parallel()
	clock := newClock()
	st := openStore(t, t.TempDir())
	r, err := BuildReport(context.Background(), st, clock.Now(), 24*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.System = "ACODE Pipeline"
	if !strings.HasSuffix(r.Subject(), ": all good") || !strings.Contains(r.Text(), "All good") || !strings.Contains(r.Text(), "no jobs") {
		t.Errorf("subject %q, text:\n%s", r.Subject(), r.Text())
	}
}

func TestMailer_RefusesPlainServerForStartTLSAndKeepsThePasswordOutOfErrors(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	const password = "smtpP4ssw0rdS3cret"
	m, err := NewMailer(MailOptions{Host: "127.0.0.1", Port: srv.port(), TLS: config.SMTPStartTLS, Username: "u", Password: password,
		From: "a@b.test", To: []string{"c@d.test"}})
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	err = m.Send(context.Background(), "s", "b")
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") || strings.Contains(err.Error(), password) {
		t.Errorf("Send to a server without STARTTLS = %v", err)
	}
	log.Warn("daily e-mail failed", "err", err)
	if len(srv.received()) != 0 || strings.Contains(logs.String(), password) {
		t.Errorf("mail sent or password logged: %d, %s", len(srv.received()), logs.String())
	}
	if _, err := m.message("bad\r\nBcc: x@y", "b"); err == nil {
		t.Error("a header injection was accepted")
	}
	if _, err := NewMailer(MailOptions{Host: "h", From: "a@b"}); err == nil {
		t.Error("a mailer without recipients was accepted")
	}
}

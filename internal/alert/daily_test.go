package alert

import (
	"context"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
)

// The daily status e-mail's entry: the report reaches the SMTP server and
// the alert log says it was sent; when the server refuses, the log says
// failed and why.
func TestManager_SendDailyReportMailsAndLogsIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t, nil)
	srv := newSMTPServer(t)
	m, err := NewMailer(MailOptions{Host: "127.0.0.1", Port: srv.port(), TLS: config.SMTPNone,
		From: "acode@farmarcas.test", To: []string{"oncall-data@farmarcas.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.m.SendDailyReport(ctx, m, "ACODE Pipeline", "http://acode.test:8001/", r.clock.Now()); err != nil {
		t.Fatalf("SendDailyReport: %v", err)
	}
	mails := srv.received()
	if len(mails) != 1 || !strings.Contains(mails[0].Data, "ACODE Pipeline daily status") {
		t.Fatalf("mails: %+v", mails)
	}
	logged, err := r.store.Alerts(ctx, state.AlertFilter{Condition: "report/daily"})
	if err != nil || len(logged) != 1 || logged[0].Status != state.AlertSent || logged[0].Sink != "email" {
		t.Fatalf("alert log: %+v, %v", logged, err)
	}

	// A server that wants STARTTLS it does not offer: nothing is sent.
	refusing, err := NewMailer(MailOptions{Host: "127.0.0.1", Port: srv.port(), TLS: config.SMTPStartTLS,
		From: "acode@farmarcas.test", To: []string{"oncall-data@farmarcas.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.m.SendDailyReport(ctx, refusing, "ACODE Pipeline", "", r.clock.Now()); err == nil {
		t.Fatal("SendDailyReport through a refusing server: no error")
	}
	logged, err = r.store.Alerts(ctx, state.AlertFilter{Condition: "report/daily"})
	if err != nil || len(logged) != 2 || logged[0].Status != state.AlertFailed || logged[0].Error == "" {
		t.Fatalf("alert log after the failure: %+v, %v", logged, err)
	}
}

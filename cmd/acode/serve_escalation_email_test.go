package main

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/testenv"
)

// received is one e-mail the SMTP sink took.
type received struct {
	To, Subject, Body string
	At                time.Time
}

func (s *smtpSink) received(t *testing.T) []received {
	t.Helper()
	s.mu.Lock()
	data, at := append([]string(nil), s.data...), append([]time.Time(nil), s.at...)
	s.mu.Unlock()
	var out []received
	for i, d := range data {
		m, err := mail.ReadMessage(strings.NewReader(d))
		if err != nil {
			t.Fatalf("unreadable message: %v\n%s", err, d)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		body, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
		out = append(out, received{To: m.Header.Get("To"), Subject: subject, Body: string(body), At: at[i]})
	}
	return out
}

// to returns the messages to addr, in order.
func (s *smtpSink) to(t *testing.T, addr string) []received {
	var out []received
	for _, m := range s.received(t) {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

// failingSyncProject is a project whose scheduled sync fails at serve's
// start (wrong password), opening the critical sync_failing condition,
// with alerts evaluated every second, e-mail through sink, the e-mail
// sinks oncall, lead and cto, and escalation (alerts.escalation's YAML
// at two spaces' depth).
func failingSyncProject(t *testing.T, sink *smtpSink, escalation string) *testenv.Project {
	t.Helper()
	p := seededProject(t, 50, nil)
	p.Edit(t, "connections/connection_mysql_local_acode/configuration.yaml", "schedule_type: manual",
		"schedule_type: basic\n  schedule_data:\n    basic_schedule:\n      time_unit: hours\n      units: 24")
	p.Env["ACODE_PASS"] = "not-the-password"
	appendYAML(t, p, fmt.Sprintf(`serve:
  job_attempts: 1
alerts:
  evaluate_every: 1s
  email: {smtp_host: 127.0.0.1, smtp_port: %d, tls: none, from: acode@test, to: [team@test]}
  escalation:
    sinks:
      oncall_mail: {type: email, to: [oncall@test]}
      lead_mail: {type: email, to: [lead@test]}
      cto_mail: {type: email, to: [cto@test]}
%s`, sink.ln.Addr().(*net.TCPAddr).Port, escalation))
	return p
}

const failingKey = "sync_failing/connection_mysql_local_acode"

// The real service: a critical condition nobody acknowledges is mailed to
// on-call at once, to the lead after the policy's 3 s, to the CTO after
// its own 4 s, each once, each naming its level and how to acknowledge.
func TestServe_UnacknowledgedCriticalEscalatesByEMailOnCallLeadCTO(t *testing.T) {
	t.Parallel()
	sink := newSMTPSink(t)
	p := failingSyncProject(t, sink, `    critical:
      after: 3s
      levels:
        - {name: on-call, sinks: [oncall_mail]}
        - {name: lead, sinks: [lead_mail]}
        - {name: CTO, sinks: [cto_mail], after: 4s}
`)
	sp := startServe(t, p)
	deadline := time.Now().Add(150 * time.Second)
	for len(sink.to(t, "cto@test")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no e-mail to the CTO 150s after start; mails %+v\n%s", sink.received(t), sp.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = sp.cmd.Process.Signal(syscall.SIGTERM)
	<-sp.exited
	oncall, lead, cto := sink.to(t, "oncall@test"), sink.to(t, "lead@test"), sink.to(t, "cto@test")
	if len(oncall) != 1 || len(lead) != 1 || len(cto) != 1 {
		t.Fatalf("mails: %d on-call, %d lead, %d CTO; want one each", len(oncall), len(lead), len(cto))
	}
	// At is when the sink received a mail: each delivery takes its own few
	// milliseconds after the level fires, so the gaps are checked to
	// deliverySlack.
	const deliverySlack = 100 * time.Millisecond
	if d := lead[0].At.Sub(oncall[0].At); d < 3*time.Second-deliverySlack {
		t.Errorf("the lead was mailed %v after on-call, want at least the policy's 3s", d)
	}
	if d := cto[0].At.Sub(lead[0].At); d < 4*time.Second-deliverySlack {
		t.Errorf("the CTO was mailed %v after the lead, want at least the level's 4s", d)
	}
	for i, m := range []received{oncall[0], lead[0], cto[0]} {
		name := []string{"on-call", "lead", "CTO"}[i]
		if want := fmt.Sprintf("Escalated to %s (level %d, critical priority)", name, i+1); !strings.Contains(m.Subject, want) {
			t.Errorf("subject %q lacks %q", m.Subject, want)
		}
		if !strings.Contains(m.Body, "acode alerts ack "+failingKey) || !strings.Contains(m.Body, "Condition: "+failingKey) {
			t.Errorf("%s's mail does not say how to acknowledge:\n%s", name, m.Body)
		}
	}
	if strings.Contains(sp.stderr.String(), "not-the-password") {
		t.Error("the log holds the password")
	}
}

// `acode alerts ack` beside a running serve on a PostgreSQL state store:
// the ack is recorded with who, on-call hears who took it, and the lead,
// due 4 s after on-call, is never mailed.
func TestCLI_AlertsAckStopsTheEscalationOfARunningServeOnPostgreSQL(t *testing.T) {
	t.Parallel()
	sink := newSMTPSink(t)
	p := failingSyncProject(t, sink, `    critical:
      after: 4s
      levels:
        - {name: on-call, sinks: [oncall_mail]}
        - {name: lead, sinks: [lead_mail]}
`)
	p.Edit(t, "acode.yaml", "state_db: .acode/state.db", "state_db: "+testenv.SharedPostgres(t).NewDatabase(t))
	sp := startServe(t, p)
	deadline := time.Now().Add(150 * time.Second)
	for len(sink.to(t, "oncall@test")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no e-mail to on-call 150s after start:\n%s", sp.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, errOut, code := acode(t, p, "alerts", "list", "--json")
	var list struct{ Alerts []alertJSON }
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil {
		t.Fatalf("alerts list: exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	if len(list.Alerts) != 1 || list.Alerts[0].Condition != failingKey || list.Alerts[0].Severity != "critical" ||
		list.Alerts[0].EscalationLevel != 1 || list.Alerts[0].AcknowledgedAt != nil {
		t.Fatalf("alerts list: %+v", list.Alerts)
	}
	out, errOut, code = acode(t, p, "alerts", "ack", failingKey, "--by", "maria.santos")
	if code != 0 || !strings.Contains(out, failingKey+" acknowledged by maria.santos (cli:") {
		t.Fatalf("alerts ack: exit %d\n%s\n%s", code, out, errOut)
	}
	acked := time.Now()
	if _, _, code := acode(t, p, "alerts", "ack", "sync_failing/nobody"); code != exitConfig {
		t.Errorf("ack of a condition that is not open: exit %d, want %d", code, exitConfig)
	}
	// On-call hears who took it; the lead's time (4 s after on-call) and
	// three evaluations more pass without a mail to the lead.
	for {
		if n := len(sink.to(t, "lead@test")); n != 0 {
			t.Fatalf("the lead was mailed after the ack:\n%s", sp.stderr)
		}
		ms := sink.to(t, "oncall@test")
		if len(ms) == 2 && time.Since(acked) > 7*time.Second {
			if !strings.Contains(ms[1].Subject, "Acknowledged by maria.santos (cli:") {
				t.Errorf("on-call's second mail: %q", ms[1].Subject)
			}
			break
		}
		if time.Since(acked) > 60*time.Second {
			t.Fatalf("on-call mails %+v a minute after the ack:\n%s", ms, sp.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, _, _ = acode(t, p, "alerts", "list")
	if !strings.Contains(out, "maria.santos (cli:") {
		t.Errorf("alerts list after the ack:\n%s", out)
	}
	_ = sp.cmd.Process.Signal(syscall.SIGTERM)
	<-sp.exited
}

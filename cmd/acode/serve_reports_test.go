package main

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/alert"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
)

// smtpSink is a plain SMTP receiver on the loopback keeping each message's
// DATA.
type smtpSink struct {
	ln   net.Listener
	mu   sync.Mutex
	data []string
	at   []time.Time // when each message's DATA ended
}

func newSMTPSink(t *testing.T) *smtpSink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSink{ln: ln}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.session(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return s
}

func (s *smtpSink) session(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(l string) { c.Write([]byte(l + "\r\n")) }
	say("220 sink")
	var data strings.Builder
	inData := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if inData {
			if line == ".\r\n" {
				inData = false
				s.mu.Lock()
				s.data = append(s.data, data.String())
				s.at = append(s.at, time.Now())
				s.mu.Unlock()
				data.Reset()
				say("250 ok")
				continue
			}
			data.WriteString(line)
			continue
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 sink")
		case cmd == "DATA":
			inData = true
			say("354 go on")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *smtpSink) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.data...)
}

func TestReportEntries_WeeklyOnMondaysMonthlyOnTheFirst(t *testing.T) {
	p := &config.Project{Settings: config.DefaultSettings(t.TempDir())}
	entries, err := reportEntries(p, nil, nil)
	if err != nil || len(entries) != 2 {
		t.Fatalf("entries %v, %v", entries, err)
	}
	from := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC) // a Friday
	if next := entries[0].Spec.Next(from); next != time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC) {
		t.Errorf("weekly report next at %v, want Monday 08:00", next)
	}
	if next := entries[1].Spec.Next(from); next != time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC) {
		t.Errorf("monthly report next at %v, want the 1st at 08:00", next)
	}
}

func TestMailReport_TheWeeklyReportArrivesBySMTP(t *testing.T) {
	t.Parallel()
	p := seededProject(t, 300, nil)
	if _, errOut, code := acode(t, p, "sync", "connection_mysql_local_acode"); code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, errOut)
	}
	proj, err := config.Load(p.Dir, p.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := state.Open(ctx, proj.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sink := newSMTPSink(t)
	mailer, err := alert.NewMailer(alert.MailOptions{Host: "127.0.0.1", Port: sink.ln.Addr().(*net.TCPAddr).Port,
		TLS: config.SMTPNone, From: "acode@test", To: []string{"team@test"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := mailReport(ctx, proj, st, mailer, "weekly", time.Now().AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	msgs := sink.messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "ACODE weekly report") || !strings.Contains(msgs[0], "1 jobs, 1 succeeded") {
		t.Fatalf("mail: %q", msgs)
	}
	recs, err := st.Alerts(ctx, state.AlertFilter{Condition: "report/weekly"})
	if err != nil || len(recs) != 1 || recs[0].Status != state.AlertSent {
		t.Errorf("alert log %+v, %v", recs, err)
	}
}

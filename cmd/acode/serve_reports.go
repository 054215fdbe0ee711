package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/acode-dev/acode/internal/alert"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/report"
	"github.com/acode-dev/acode/internal/schedule"
	"github.com/acode-dev/acode/internal/state"
)

// reportEntries are the weekly (Mondays) and monthly (the 1st) SLA report
// e-mails, at alerts.email.daily_at in its time zone beside the daily one.
func reportEntries(p *config.Project, st *state.Store, mailer *alert.Mailer) ([]schedule.Entry, error) {
	e := p.Settings.Alerts.Email
	var h, m int
	if _, err := fmt.Sscanf(e.DailyAt, "%d:%d", &h, &m); err != nil {
		return nil, fmt.Errorf("alerts.email.daily_at %q: want HH:MM", e.DailyAt)
	}
	var out []schedule.Entry
	for _, k := range []struct{ kind, expr string }{
		{report.Weekly, fmt.Sprintf("0 %d %d ? * MON", m, h)},
		{report.Monthly, fmt.Sprintf("0 %d %d 1 * ?", m, h)},
	} {
		spec, err := schedule.Cron(k.expr, e.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("alerts.email: %w", err)
		}
		kind := k.kind
		out = append(out, schedule.Entry{Name: "email:" + kind + "_report", Spec: spec, Run: func(ctx context.Context) error {
			return mailReport(ctx, p, st, mailer, kind, time.Now())
		}})
	}
	return out, nil
}

// mailReport mails the report of the period that ended at now (the week
// before today, or last month) in Markdown, and records the sending in the
// alert log as the daily e-mail does.
func mailReport(ctx context.Context, p *config.Project, st *state.Store, mailer *alert.Mailer, kind string, now time.Time) error {
	anchor := now
	if kind == report.Monthly {
		anchor = now.UTC().AddDate(0, -1, 0)
	}
	from, to, err := report.Period(kind, anchor)
	if err != nil {
		return err
	}
	r, err := report.Build(ctx, st, p, kind, from, to)
	if err != nil {
		return err
	}
	rec := state.AlertRecord{Condition: "report/" + kind, Severity: "info", Event: "report", Sink: "email",
		Title: r.Title(), Status: state.AlertSent}
	sendErr := mailer.Send(ctx, r.Title(), report.Markdown(r))
	if sendErr != nil {
		rec.Status, rec.Error = state.AlertFailed, sendErr.Error()
	}
	if _, err := st.RecordAlert(ctx, rec); err != nil {
		return errors.Join(sendErr, err)
	}
	return sendErr
}

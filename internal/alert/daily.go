package alert

import (
	"context"
	"errors"
	"time"

	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/state"
)

// SendDailyReport mails the status of the 24 hours before now, with the
// manager's open conditions, through mailer, and records the sending in
// the alert log (failed, with the error, when the mail could not go). It
// is the daily status e-mail's schedule entry.
func (m *Manager) SendDailyReport(ctx context.Context, mailer *Mailer, system, statusURL string, now time.Time) error {
	st := m.cfg.Store
	r, err := BuildReport(ctx, st, now, 24*time.Hour, m.Open())
	if err != nil {
		return err
	}
	r.System, r.StatusURL = system, statusURL
	rec := state.AlertRecord{Condition: "report/daily", Severity: string(failure.Info), Event: "report",
		Sink: "email", Title: r.Subject(), Status: state.AlertSent}
	sendErr := mailer.Send(ctx, r.Subject(), r.Text())
	if sendErr != nil {
		rec.Status, rec.Error = state.AlertFailed, sendErr.Error()
	}
	if _, err := st.RecordAlert(ctx, rec); err != nil {
		return errors.Join(sendErr, err)
	}
	return sendErr
}

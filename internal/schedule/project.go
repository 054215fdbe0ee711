package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"sort"

	"github.com/acode-dev/acode/internal/config"
)

// DailyEmailEntry names the daily status e-mail among the entries.
const DailyEmailEntry = "alerts:daily_status_email"

// ConnectionEntries returns one entry per connection of p that has a
// schedule (schedule_type basic or cron; manual ones are left to Airflow),
// by name. run(connection) is what a fire of the connection's entry runs;
// a basic schedule fires at once the first time, as in Airbyte. A bad
// schedule is an error naming the connection's file.
func ConnectionEntries(p *config.Project, log *slog.Logger, run func(connection string) func(context.Context) error) ([]Entry, error) {
	var entries []Entry
	names := p.ConnectionNames()
	sort.Strings(names)
	for _, name := range names {
		c, err := p.Connection(name)
		if err != nil {
			return nil, err
		}
		spec, err := ForConnection(c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.File, err)
		}
		if spec == nil {
			continue
		}
		if log != nil {
			log.Info("connection scheduled", "connection", name, "schedule", spec.String())
		}
		entries = append(entries, Entry{
			Name: "connection:" + name, Spec: spec, FireFirst: c.ScheduleType == "basic", Run: run(name),
		})
	}
	return entries, nil
}

// DailyEmail is the entry of the daily status e-mail at alerts.email's
// daily_at in its time zone.
func DailyEmail(e config.EmailSettings, run func(context.Context) error) (Entry, error) {
	spec, err := Daily(e.DailyAt, e.TimeZone)
	if err != nil {
		return Entry{}, fmt.Errorf("alerts.email: %w", err)
	}
	return Entry{Name: DailyEmailEntry, Spec: spec, Run: run}, nil
}

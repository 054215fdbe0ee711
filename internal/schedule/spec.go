// Package schedule fires the connections of an Octavia project on their
// Airbyte schedules (schedule_type basic or cron; manual never fires) and
// other periodic tasks of `acode serve`, such as the daily status e-mail.
// The last fire of every entry is kept in the state store: after downtime a
// missed run fires once, not once per missed slot.
//
// It decides only when: a fire hands the connection to the job runner
// (package jobs), which runs it through package pairsync or syncer. Like
// the runner it works within one process; the high-availability work is to
// replace both with a shared queue.
package schedule

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/acode-dev/acode/internal/config"
)

// Spec says when something is due.
type Spec interface {
	// Next returns the first time after t at which the schedule fires.
	Next(t time.Time) time.Time
	// String describes the schedule for logs and status pages.
	String() string
}

// ForConnection returns the schedule of c's schedule_type and
// schedule_data, or nil when c is not run by a schedule: schedule_type
// manual (the seed's: Airflow triggers it) or a connection that is not
// active, as Airbyte does.
func ForConnection(c *config.Connection) (Spec, error) {
	if c.Status != "" && c.Status != "active" {
		return nil, nil
	}
	switch c.ScheduleType {
	case "", "manual":
		return nil, nil
	case "basic":
		return Every(c.Schedule.BasicUnits, c.Schedule.BasicTimeUnit)
	case "cron":
		return Cron(c.Schedule.CronExpression, c.Schedule.CronTimeZone)
	default:
		return nil, fmt.Errorf("connection %s: unknown schedule_type %q", c.ResourceName, c.ScheduleType)
	}
}

// interval is Airbyte's basic schedule: every Units TimeUnits after the
// previous run.
type interval struct {
	units int
	unit  string
}

// Every returns the basic schedule "every units unit" (unit: minutes,
// hours, days, weeks or months). Days and longer count calendar days in UTC.
func Every(units int, unit string) (Spec, error) {
	if units < 1 {
		return nil, fmt.Errorf("basic schedule: units must be at least 1, got %d", units)
	}
	switch unit {
	case "minutes", "hours", "days", "weeks", "months":
		return interval{units: units, unit: unit}, nil
	}
	return nil, fmt.Errorf("basic schedule: time_unit must be minutes, hours, days, weeks or months, got %q", unit)
}

func (iv interval) Next(t time.Time) time.Time {
	t = t.UTC()
	switch iv.unit {
	case "minutes":
		return t.Add(time.Duration(iv.units) * time.Minute)
	case "hours":
		return t.Add(time.Duration(iv.units) * time.Hour)
	case "days":
		return t.AddDate(0, 0, iv.units)
	case "weeks":
		return t.AddDate(0, 0, 7*iv.units)
	default:
		return t.AddDate(0, iv.units, 0)
	}
}

func (iv interval) String() string { return fmt.Sprintf("every %d %s", iv.units, iv.unit) }

// cronSpec is a parsed Quartz expression in its time zone.
type cronSpec struct {
	expr  string
	zone  string
	sched cron.Schedule
}

func (c cronSpec) Next(t time.Time) time.Time { return c.sched.Next(t) }
func (c cronSpec) String() string             { return fmt.Sprintf("cron %q in %s", c.expr, c.zone) }

// Daily returns a schedule firing every day at hh:mm (as "08:00") in zone.
func Daily(hhmm, zone string) (Spec, error) {
	var h, m int
	if _, err := fmt.Sscanf(hhmm, "%d:%d", &h, &m); err != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return nil, fmt.Errorf("daily schedule: want a time of day HH:MM, got %q", hhmm)
	}
	return Cron(fmt.Sprintf("0 %d %d * * ?", m, h), zone)
}

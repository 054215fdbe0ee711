package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/config"
)

func mustCron(t *testing.T, expr, zone string) Spec {
	t.Helper()
	s, err := Cron(expr, zone)
	if err != nil {
		t.Fatalf("Cron(%q, %q): %v", expr, zone, err)
	}
	return s
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCron_QuartzExpressionsInTheirTimeZone(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		expr, zone, after, want string
	}{
		// Airbyte's nightly form: 02:00 in São Paulo is 05:00 UTC.
		{"0 0 2 * * ?", "America/Sao_Paulo", "2025-08-07T04:00:00Z", "2025-08-07T05:00:00Z"},
		{"0 0 2 * * ?", "America/Sao_Paulo", "2025-08-07T05:00:00Z", "2025-08-08T05:00:00Z"},
		{"0 0 2 * * ?", "", "2025-08-07T01:59:59Z", "2025-08-07T02:00:00Z"},
		// Seconds are honoured.
		{"30 15 * * * ?", "UTC", "2025-08-07T10:20:00Z", "2025-08-07T11:15:30Z"},
		// Quartz numbers days of the week from Sunday = 1: 2-6 is Monday to Friday.
		{"0 30 6 ? * 2-6", "UTC", "2025-08-09T00:00:00Z", "2025-08-11T06:30:00Z"}, // Saturday -> Monday
		{"0 0 12 ? * 1", "UTC", "2025-08-07T00:00:00Z", "2025-08-10T12:00:00Z"},   // Sunday
		{"0 0 12 ? * 7", "UTC", "2025-08-07T00:00:00Z", "2025-08-09T12:00:00Z"},   // Saturday
		{"0 0 12 ? * 1,7", "UTC", "2025-08-09T13:00:00Z", "2025-08-10T12:00:00Z"}, // weekends
		{"0 0 6 ? * MON-FRI", "UTC", "2025-08-08T07:00:00Z", "2025-08-11T06:00:00Z"},
		{"0 0 3 1 * ?", "UTC", "2025-08-07T00:00:00Z", "2025-09-01T03:00:00Z"},
		{"0 0 3 * * ? *", "UTC", "2025-08-07T00:00:00Z", "2025-08-07T03:00:00Z"}, // optional year field
		{"0 */15 * * * ?", "UTC", "2025-08-07T00:16:00Z", "2025-08-07T00:30:00Z"},
	} {
		got := mustCron(t, tt.expr, tt.zone).Next(utc(tt.after))
		if !got.Equal(utc(tt.want)) {
			t.Errorf("Cron(%q, %q).Next(%s) = %s, want %s", tt.expr, tt.zone, tt.after, got.UTC().Format(time.RFC3339), tt.want)
		}
	}
}

func TestCron_RejectsWhatItCannotHonour(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		expr, zone, msg string
		unsupported     bool
	}{
		{"0 0 2 * *", "UTC", "6 or 7 fields", false}, // Unix cron: day-of-week numbering differs, refuse
		{"0 0 2 L * ?", "UTC", "L and W", true},
		{"0 0 2 15W * ?", "UTC", "L and W", true},
		{"0 0 2 ? * 6L", "UTC", "L and #", true},
		{"0 0 2 ? * 2#1", "UTC", "L and #", true},
		{"0 0 2 * * ? 2026", "UTC", "year", true},
		{"0 0 2 ? * 8", "UTC", "range 1-7", false},
		{"0 0 25 * * ?", "UTC", "above maximum", false},
		{"0 0 2 * * ?", "Mars/Olympus", "time zone", false},
	} {
		_, err := Cron(tt.expr, tt.zone)
		if err == nil || !strings.Contains(err.Error(), tt.msg) || errors.Is(err, ErrUnsupportedCron) != tt.unsupported {
			t.Errorf("Cron(%q, %q) = %v, want an error containing %q (unsupported %v)", tt.expr, tt.zone, err, tt.msg, tt.unsupported)
		}
	}
	// Day names keep their letters: WED and JUL are not W and L.
	if _, err := Cron("0 0 2 ? JUL WED", "UTC"); err != nil {
		t.Errorf("names: %v", err)
	}
}

func TestEvery_AirbyteBasicUnits(t *testing.T) {
	t.Parallel()
	from := utc("2025-01-31T02:00:00Z")
	for _, tt := range []struct {
		units int
		unit  string
		want  string
	}{
		{15, "minutes", "2025-01-31T02:15:00Z"},
		{24, "hours", "2025-02-01T02:00:00Z"},
		{2, "days", "2025-02-02T02:00:00Z"},
		{1, "weeks", "2025-02-07T02:00:00Z"},
		{1, "months", "2025-03-03T02:00:00Z"}, // Go's AddDate normalises Feb 31
	} {
		s, err := Every(tt.units, tt.unit)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Next(from); !got.Equal(utc(tt.want)) {
			t.Errorf("every %d %s from %s = %s, want %s", tt.units, tt.unit, from, got, tt.want)
		}
	}
	if _, err := Every(0, "hours"); err == nil {
		t.Error("Every(0) accepted")
	}
	if _, err := Every(1, "fortnights"); err == nil {
		t.Error("Every(fortnights) accepted")
	}
}

func TestForConnection_ManualAndInactiveNeverFire(t *testing.T) {
	t.Parallel()
	conn := func(typ, status string, sd config.ScheduleData) *config.Connection {
		return &config.Connection{ResourceName: "c", ScheduleType: typ, Status: status, Schedule: sd}
	}
	for _, c := range []*config.Connection{conn("manual", "active", config.ScheduleData{}),
		conn("cron", "inactive", config.ScheduleData{CronExpression: "0 0 2 * * ?"})} {
		if s, err := ForConnection(c); s != nil || err != nil {
			t.Errorf("ForConnection(%s, %s) = %v, %v; want nil, nil", c.ScheduleType, c.Status, s, err)
		}
	}
	s, err := ForConnection(conn("cron", "active", config.ScheduleData{CronExpression: "0 0 2 * * ?", CronTimeZone: "America/Sao_Paulo"}))
	if err != nil || !s.Next(utc("2025-08-07T00:00:00Z")).Equal(utc("2025-08-07T05:00:00Z")) {
		t.Errorf("cron connection: %v, %v", s, err)
	}
	s, err = ForConnection(conn("basic", "active", config.ScheduleData{BasicUnits: 6, BasicTimeUnit: "hours"}))
	if err != nil || s.String() != "every 6 hours" {
		t.Errorf("basic connection: %v, %v", s, err)
	}
	if _, err := ForConnection(conn("cron", "active", config.ScheduleData{CronExpression: "nope"})); err == nil {
		t.Error("bad cron accepted")
	}
}

func TestDaily(t *testing.T) {
	t.Parallel()
	s, err := Daily("08:00", "America/Sao_Paulo")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Next(utc("2025-08-07T12:00:00Z")); !got.Equal(utc("2025-08-08T11:00:00Z")) {
		t.Errorf("Daily 08:00 BRT after 12:00Z = %s", got)
	}
	if _, err := Daily("8am", "UTC"); err == nil {
		t.Error("Daily(8am) accepted")
	}
}

package schedule

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ErrUnsupportedCron is returned for Quartz features that have no exact
// equivalent here (L, W, #, a year other than *): refusing them beats
// firing on the wrong day.
var ErrUnsupportedCron = errors.New("unsupported cron feature")

// parser reads six fields, seconds first, as Quartz does; '?' means "no
// specific value" in the day fields.
var parser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

var (
	lastOrNth = regexp.MustCompile(`[0-9]L|^L$|#`)
	number    = regexp.MustCompile(`^[0-9]+$`)
)

// Cron parses a Quartz cron expression as Airbyte takes it ("0 0 2 * * ?":
// seconds, minutes, hours, day of month, month, day of week, optional
// year) in the IANA zone (UTC when empty).
//
// Quartz numbers days of the week 1-7 from Sunday; they are mapped to the
// parser's 0-6. Names (MON-FRI, JAN) are taken as they are.
func Cron(expr, zone string) (Spec, error) {
	if zone == "" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("cron time zone %q: %w", zone, err)
	}
	fields := strings.Fields(expr)
	if len(fields) == 7 {
		if y := fields[6]; y != "*" && y != "?" {
			return nil, fmt.Errorf("cron %q: a year field other than * is not supported: %w", expr, ErrUnsupportedCron)
		}
		fields = fields[:6]
	}
	if len(fields) != 6 {
		return nil, fmt.Errorf("cron %q: want Quartz's 6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]), e.g. \"0 0 2 * * ?\"", expr)
	}
	if dom := strings.ToUpper(fields[3]); strings.ContainsAny(dom, "LW") {
		return nil, fmt.Errorf("cron %q: day-of-month L and W are not supported: %w", expr, ErrUnsupportedCron)
	}
	if lastOrNth.MatchString(strings.ToUpper(fields[5])) {
		return nil, fmt.Errorf("cron %q: day-of-week L and # are not supported: %w", expr, ErrUnsupportedCron)
	}
	dow, err := quartzDow(fields[5])
	if err != nil {
		return nil, fmt.Errorf("cron %q: %w", expr, err)
	}
	fields[5] = dow
	sched, err := parser.Parse(strings.Join(fields, " "))
	if err != nil {
		return nil, fmt.Errorf("cron %q: %w", expr, err)
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("cron %q: not a field expression", expr)
	}
	spec.Location = loc
	return cronSpec{expr: expr, zone: zone, sched: spec}, nil
}

// quartzDow maps Quartz's day-of-week numbers (1 = Sunday ... 7 = Saturday)
// to 0-6, in lists, ranges and range starts; steps stay as they are.
func quartzDow(field string) (string, error) {
	parts := strings.Split(field, ",")
	for i, p := range parts {
		rng, step, hasStep := strings.Cut(p, "/")
		ends := strings.Split(rng, "-")
		for j, e := range ends {
			if !number.MatchString(e) {
				continue // *, ?, or a name
			}
			n, _ := strconv.Atoi(e) // digits only
			if n < 1 || n > 7 {
				return "", fmt.Errorf("day of week %d out of Quartz's range 1-7 (1 = Sunday)", n)
			}
			ends[j] = strconv.Itoa(n - 1)
		}
		parts[i] = strings.Join(ends, "-")
		if hasStep {
			parts[i] += "/" + step
		}
	}
	return strings.Join(parts, ","), nil
}

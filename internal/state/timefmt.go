package state

import (
	"database/sql"
	"fmt"
	"time"
)

// timeLayout is how every time is stored: UTC, fixed width, microseconds.
// Fixed width keeps text order equal to time order, so ORDER BY and range
// filters work on the column directly.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}

// formatOptTime maps nil and the zero time to SQL NULL.
func formatOptTime(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return formatTime(*t)
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

func parseOptTime(ns sql.NullString) (*time.Time, error) {
	if !ns.Valid {
		return nil, nil
	}
	t, err := parseTime(ns.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// truncate rounds t to what storage keeps, so values returned straight from
// a write equal what a later read returns.
func truncate(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

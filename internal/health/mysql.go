package health

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/failure"
)

// Opener connects to a source within ctx (connect + ping).
type Opener func(ctx context.Context) (*sql.DB, error)

// Connectivity connects with open and runs SELECT 1, all within timeout (the
// seed's 30 s). On success it returns the open pool for the other checks of
// the same source; the caller closes it. A failure is critical and keeps
// the error in Err; a failure caused by the timeout wraps
// context.DeadlineExceeded so it classifies as a timeout even when the
// driver reports only a dropped connection.
func Connectivity(ctx context.Context, target string, timeout time.Duration, open Opener, now time.Time) (Result, *sql.DB) {
	r := Result{Check: CheckConnectivity, Target: target, Threshold: fmt.Sprintf("answers within %s", timeout), Time: now}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	db, err := open(cctx)
	if err == nil {
		var one int
		if err = db.QueryRowContext(cctx, "SELECT 1").Scan(&one); err != nil {
			db.Close()
			db = nil
		}
	}
	elapsed := time.Since(start)
	if err != nil {
		if errors.Is(cctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w after %s: %w", context.DeadlineExceeded, timeout, err)
		}
		r.Status, r.Err = failure.Critical, err
		r.Value = "unreachable"
		r.Message = fmt.Sprintf("cannot connect and run SELECT 1: %v", err)
		return r, nil
	}
	r.Status = failure.OK
	r.Value = elapsed.Round(time.Millisecond).String()
	r.Message = "connected, SELECT 1 answered"
	return r, db
}

// FreshnessQuery says where the newest row's date is.
type FreshnessQuery struct {
	Database, Table, Column string
	Location                *time.Location // zone the column's values are written in; nil = UTC
	Warning, Critical       time.Duration
}

// Freshness reads MAX(column) of the table and grades its age. A DATE value
// stands for the end of that day (the freshest instant it can mean), so
// data processed today is fresh all day; a DATETIME is taken as it is.
func Freshness(ctx context.Context, db *sql.DB, target string, q FreshnessQuery, now time.Time) Result {
	r := Result{Check: CheckFreshness, Target: target, Threshold: thresholds(q.Warning, q.Critical), Time: now}
	what := fmt.Sprintf("MAX(%s) of %s.%s", q.Column, q.Database, q.Table)
	var v sql.NullString
	query := fmt.Sprintf("SELECT MAX(%s) FROM %s.%s", quoteIdent(q.Column), quoteIdent(q.Database), quoteIdent(q.Table))
	if err := db.QueryRowContext(ctx, query).Scan(&v); err != nil {
		r.Status, r.Err = failure.Critical, err
		r.Message = fmt.Sprintf("cannot read %s: %v", what, err)
		return r
	}
	if !v.Valid {
		r.Status, r.Value = failure.Critical, "no rows"
		r.Message = fmt.Sprintf("%s is NULL: the table is empty", what)
		return r
	}
	newest, err := parseNewest(v.String, q.Location)
	if err != nil {
		r.Status, r.Value = failure.Critical, v.String
		r.Message = fmt.Sprintf("%s: %v", what, err)
		return r
	}
	age := max(now.Sub(newest), 0)
	r.Status = grade(age, q.Warning, q.Critical)
	r.Value = age.Round(time.Second).String()
	r.Message = fmt.Sprintf("newest %s is %s (%s old)", q.Column, v.String, r.Value)
	return r
}

// parseNewest reads a DATE or DATETIME value as MySQL sends it in text.
func parseNewest(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	if strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, errors.New("zero date")
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t.AddDate(0, 0, 1), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999", time.DateTime} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a DATE nor a DATETIME", s)
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

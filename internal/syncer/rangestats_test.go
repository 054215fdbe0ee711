package syncer

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/demo"
	"github.com/acode-dev/acode/internal/demo/demotest"
	"github.com/acode-dev/acode/internal/quality"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/stats"
	"github.com/acode-dev/acode/internal/testenv"
)

// TestSync_SharedRangesStatisticsAreMergedSoEveryRowRuleRuns: the ranges
// of a job are read by the range workers of two pools (two replicas); each
// part carries its range's statistics, the owner merges them, and the
// rules that need every row (outliers, future_dates, daily_total) are
// evaluated with the counts the source holds.
func TestSync_SharedRangesStatisticsAreMergedSoEveryRowRuleRuns(t *testing.T) {
	t.Parallel()
	m, database := seeded(t, 6000)
	s3 := testenv.StartS3(t)
	f := newFixture(t, m, database, s3)
	f.Settings(t, "chunk_rows: 400", "max_parallel_reads: 2", "file_size_mb: 1")
	f.Edit(t, "acode.yaml", "state_db: .acode/state.db", "state_db: "+testenv.SharedPostgres(t).NewDatabase(t))
	plantOutliers(t, m.Root(t), database)
	p := f.project(t)
	ctx := context.Background()
	st, err := state.Open(ctx, p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &Syncer{Project: p, State: st, Log: testLog(), SharedRanges: true}
	readers := startPools(ctx, t, s)
	res, err := s.Run(ctx, "connection_mysql_s3_acode", Options{Owner: "replica-a:1"})
	if err != nil || res.Status != "succeeded" {
		t.Fatalf("sync: %v (%+v)", err, res)
	}
	if n := readers(res.JobID); n != 2 {
		t.Errorf("diario's ranges read by %d pools, want 2", n)
	}
	checkEveryRowRules(t, st, m.Root(t), database, res.JobID)
}

// TestSync_ResumedSharedJobMergesTheStatisticsOfEarlierAttempts: the
// source dies mid-job, the attempt fails, and the retry reads only the
// ranges left; the parts of the first attempt carry their statistics, so
// the retry's rules still run over every row.
func TestSync_ResumedSharedJobMergesTheStatisticsOfEarlierAttempts(t *testing.T) {
	t.Parallel()
	m := testenv.StartMariaDB(t, testenv.MariaDBOptions{}) // its own: killed mid-job
	database := m.NewDatabase(t)
	demotest.Fill(t, m, database, demo.Options{Rows: 40000, Seed: 3, Days: 2, Now: time.Now()})
	plantOutliers(t, m.Root(t), database)
	s3 := testenv.StartS3(t)
	f := newFixture(t, m, database, s3)
	f.Settings(t, "chunk_rows: 1000", "file_size_mb: 1", "max_rows_per_second: 20000", "max_parallel_reads: 2", "parallel_streams: 1")
	f.Edit(t, "acode.yaml", "state_db: .acode/state.db", "state_db: "+testenv.SharedPostgres(t).NewDatabase(t))
	p := f.project(t)
	ctx := context.Background()
	st, err := state.Open(ctx, p.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := &Syncer{Project: p, State: st, Log: testLog(), SharedRanges: true}
	startPools(ctx, t, s)
	progress := NewProgress()
	killed := killAfter(t, m, progress, 15000)
	restart := func(context.Context, time.Duration) error { <-killed; m.Restart(t); return nil }
	res, err := s.Run(ctx, "connection_mysql_s3_acode", Options{Owner: "replica-a:1", MaxAttempts: 2, Sleep: restart, Progress: progress})
	if err != nil || res.Status != "succeeded" {
		t.Fatalf("sync: %v (%+v)", err, res)
	}
	resumed := 0
	for _, str := range res.Streams {
		if str.Name == diario {
			resumed = str.RangesResumed
		}
	}
	if res.Attempts != 2 || resumed == 0 {
		t.Fatalf("attempts %d, diario ranges resumed %d: want a retry resuming the first attempt's ranges", res.Attempts, resumed)
	}
	checkEveryRowRules(t, st, m.Root(t), database, res.JobID)
}

func testLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startPools starts two pools of one range worker each (two replicas) and
// returns how many pools read a job's diario ranges.
func startPools(ctx context.Context, t *testing.T, s *Syncer) func(jobID int64) int {
	for _, owner := range []string{"replica-a:1", "replica-b:1"} {
		stop := (&RangeWorkers{Syncer: s, Owner: owner, Workers: 1, Log: s.Log.With("pool", owner)}).Start(ctx)
		t.Cleanup(stop)
	}
	return func(jobID int64) int {
		tasks, err := s.State.RangeTasks(ctx, jobID, diario)
		if err != nil {
			t.Fatal(err)
		}
		by := map[string]bool{}
		for _, task := range tasks {
			by[task.Owner] = true
		}
		return len(by)
	}
}

// plantOutliers makes diario hold negative values and dates after the
// job's day, which the seed's outliers and future_dates rules count.
func plantOutliers(t *testing.T, db *sql.DB, database string) {
	t.Helper()
	future := time.Now().UTC().AddDate(0, 0, 5).Format(time.DateOnly)
	for _, q := range []string{
		"UPDATE `" + database + "`.`" + diario + "` SET ACODE_Val_Total = -1.25 WHERE idpk % 89 = 0",
		"UPDATE `" + database + "`.`" + diario + "` SET Data = '" + future + "' WHERE idpk % 101 = 0",
		"UPDATE `" + database + "`.`" + diario + "` SET ACODE_Val_Total = 250000.10 WHERE idpk % 113 = 0",
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
}

// checkEveryRowRules reads the job's quality report of diario and checks
// the rules needing every row against the source's own counts.
func checkEveryRowRules(t *testing.T, st *state.Store, db *sql.DB, database string, jobID int64) {
	t.Helper()
	qr, err := st.QualityReport(t.Context(), jobID, diario)
	if err != nil {
		t.Fatal(err)
	}
	var rep quality.StreamReport
	var sts stats.Stream
	if err := json.Unmarshal(qr.Report, &rep); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(qr.Stats, &sts); err != nil {
		t.Fatal(err)
	}
	table := "`" + database + "`.`" + diario + "`"
	day := time.Now().UTC().Format(time.DateOnly)
	source := func(q string) int64 {
		var n int64
		if err := db.QueryRowContext(t.Context(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	want := map[string]int64{
		"outliers.high_value_transactions": source("SELECT COUNT(*) FROM " + table + " WHERE ACODE_Val_Total > 100000"),
		"outliers.negative_values":         source("SELECT COUNT(*) FROM " + table + " WHERE ACODE_Val_Total < 0"),
		"future_dates":                     source("SELECT COUNT(*) FROM " + table + " WHERE Data > '" + day + "'"),
	}
	if rep.Partial || sts.Rows != source("SELECT COUNT(*) FROM "+table) {
		t.Errorf("statistics partial %v over %d rows; want every row of the source", rep.Partial, sts.Rows)
	}
	seen := map[string]bool{}
	for _, r := range rep.Results {
		seen[r.Rule] = true
		if n, ok := want[r.Rule]; ok {
			if r.Skipped || !strings.HasPrefix(r.Measured, fmt.Sprintf("%d rows", n)) || n == 0 {
				t.Errorf("%s: skipped %v, measured %q; the source holds %d", r.Rule, r.Skipped, r.Measured, n)
			}
		}
		if r.Rule == "daily_total.ACODE_Val_Total" && r.Skipped {
			t.Errorf("%s skipped: %s", r.Rule, r.Detail)
		}
		if strings.HasPrefix(r.Rule, "reference.") && (!r.Skipped || !strings.Contains(r.Detail, "not mergeable")) {
			t.Errorf("%s over merged parts: skipped %v, detail %q; want skipped as not mergeable", r.Rule, r.Skipped, r.Detail)
		}
	}
	for rule := range want {
		if !seen[rule] {
			t.Errorf("no %s result in %+v", rule, rep.Results)
		}
	}
	// Every day's exact total, as the source sums it.
	rows, err := db.QueryContext(t.Context(), "SELECT CAST(Data AS CHAR), CAST(SUM(ACODE_Val_Total) AS CHAR) FROM "+table+" WHERE Data IS NOT NULL GROUP BY Data")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if len(sts.DailyTotals) != 1 {
		t.Fatalf("daily totals %+v", sts.DailyTotals)
	}
	days := 0
	for rows.Next() {
		var d, sum string
		if err := rows.Scan(&d, &sum); err != nil {
			t.Fatal(err)
		}
		days++
		if got := sts.DailyTotals[0].Totals[d]; got != sum {
			t.Errorf("daily total of %s: %q, the source sums %s", d, got, sum)
		}
	}
	if err := rows.Err(); err != nil || days == 0 || len(sts.DailyTotals[0].Totals) != days {
		t.Errorf("daily totals of %d days, the source has %d (%v)", len(sts.DailyTotals[0].Totals), days, err)
	}
}

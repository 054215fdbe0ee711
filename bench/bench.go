// Package bench measures `acode sync` beside `mysqldump --single-transaction
// --quick` on the same table, in the same run: the speed a MySQL server can
// send rows at is the yardstick, so only figures taken side by side compare.
// It starts its own MariaDB (or uses one given by DSN), fills
// farmarcas_si_analitico_diario with the demo generator, and runs each tool
// as a child process, timing it and taking its peak RSS from the OS.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/acode-dev/acode/internal/sandbox"
)

// Config is one benchmark run.
type Config struct {
	// Rows are the table sizes to measure, smallest first after sorting.
	Rows []int
	// Binary is the acode executable run as `acode sync`.
	Binary string
	// DSN, when set, is an existing server (go-sql-driver form, a user
	// allowed to create a database and to LOAD DATA LOCAL); empty starts a
	// sandbox MariaDB.
	DSN string
	// Database holds the benchmark table (default acode_bench); it is
	// refilled only when its row count differs from the size measured.
	Database string
	// BufferPool is the sandbox's --innodb-buffer-pool-size (default: sized
	// to hold the largest table, at least 2G).
	BufferPool string
	// S3 also syncs to a versitygw server started by the benchmark.
	S3 bool
	// Repeat runs each tool that many times per size and keeps the fastest.
	Repeat int
	// Dir is the working directory (default: a temp dir, removed after).
	Dir string
	// ChildEnv is added to the environment of every `acode sync`.
	ChildEnv []string
	// ProfileDir, when set, receives each sync's CPU and heap profiles as
	// cpu-<tool>.pprof and mem-<tool>.pprof, and its debug log (when each
	// part was stored, how long the commit took) as log-<tool>.txt: the
	// last run of each tool.
	ProfileDir string
	// Settings are extra lines for the sync section of the bench project's
	// acode.yaml (e.g. "max_parallel_reads: 2").
	Settings []string
	// MeasureQuality also runs the local sync with quality checks off
	// (acode_local_noquality) and without the source counts
	// (acode_local_nocount), alternating with the run that has them, so the
	// cost of gathering statistics in the same pass shows as
	// statistics_overhead and quality_overhead.
	MeasureQuality bool
	// KeepOutput keeps what each sync wrote. By default a variant's output
	// is removed once its runs are measured: at 50M rows each is about
	// 5 GB, and the S3 server needs room for its own copy of the parts.
	KeepOutput bool
	// WAN, when set, puts a network link between the tools and the source
	// (see wanLink): every tool crosses it, mysqldump also runs with
	// --compress and acode also with the protocol's compression. Not with
	// S3 (the S3 server is not reachable from the link's namespace).
	WAN *WAN
	// StatePostgres also runs the local sync with its state_db on a
	// throwaway PostgreSQL the benchmark starts (acode_local_pgstate),
	// beside the SQLite one, and prints the difference.
	StatePostgres bool
	// Workers, when set, also syncs the table with each count w of `acode
	// serve` replicas on one throwaway PostgreSQL state, their range
	// workers sharing its ranges within a source budget of w
	// (acode_<dest>_serve_x<w>; dest is s3 with S3, else local).
	Workers []int
}

// Report is the result of a run: one entry per table size.
type Report struct {
	Cores int        `json:"cores"`
	Sizes []SizeRuns `json:"sizes"`
	// WAN is the link the tools crossed, e.g. "10ms round trip, 200mbit shared".
	WAN   string `json:"wan,omitempty"`
	Error string `json:"error,omitempty"`
}

// SizeRuns are the measurements of one table size.
type SizeRuns struct {
	Rows       int           `json:"rows"`
	TableBytes int64         `json:"table_bytes"`
	Runs       []Measurement `json:"runs"`
	// QualityOverhead is set with Config.MeasureQuality: what the quality checks
	// as shipped add to the local sync; StatisticsOverhead the same without
	// the source's count per range (quality.count_source false).
	QualityOverhead    *Overhead `json:"quality_overhead,omitempty"`
	StatisticsOverhead *Overhead `json:"statistics_overhead,omitempty"`
	// PostgresStateOverhead is set with Config.StatePostgres: the local
	// sync with PostgreSQL state against the same with SQLite state.
	PostgresStateOverhead *Overhead `json:"postgres_state_overhead,omitempty"`
}

// Overhead compares a run with a feature to the same run without it:
// (with - without) / without, of wall seconds and of CPU seconds.
type Overhead struct {
	Wall float64 `json:"wall"`
	CPU  float64 `json:"cpu"`
}

// Run measures every size of cfg, printing a table of results to out as it
// goes and, last, the whole Report as one JSON line.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Report, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "acode-bench-"); err != nil {
			return nil, fmt.Errorf("create work dir: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, fmt.Errorf("profile dir: %w", err)
		}
	}
	src, err := openSource(ctx, cfg, filepath.Join(dir, "mariadb"))
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var s3 *s3Server
	if cfg.S3 {
		if s3, err = startS3(ctx, filepath.Join(dir, "s3")); err != nil {
			return nil, err
		}
		defer s3.Close()
	}
	rep := &Report{Cores: runtime.NumCPU()}
	if cfg.WAN != nil {
		host, port := src.addr()
		link, err := startWAN(ctx, *cfg.WAN, net.JoinHostPort(host, strconv.Itoa(port)), filepath.Join(dir, "toxiproxy.log"))
		if err != nil {
			return nil, fmt.Errorf("wan link: %w", err)
		}
		defer link.Close()
		src.wan = link
		rep.WAN = cfg.WAN.String()
		fmt.Fprintf(out, "# every tool crosses a link of %s (tbf on a veth pair, toxiproxy latency)\n", rep.WAN)
	}
	var pg *sandbox.Postgres
	if cfg.StatePostgres || len(cfg.Workers) > 0 {
		stop, err := startStatePostgres(&pg)
		if err != nil {
			return nil, err
		}
		defer stop()
	}
	printHeader(out)
	for _, n := range cfg.Rows {
		sr, err := measureSize(ctx, cfg, src, s3, pg, dir, n, out)
		if sr != nil {
			rep.Sizes = append(rep.Sizes, *sr)
		}
		if err != nil {
			rep.Error = err.Error()
			printJSON(out, rep)
			return rep, err
		}
	}
	printJSON(out, rep)
	return rep, nil
}

func withDefaults(cfg Config) (Config, error) {
	if len(cfg.Rows) == 0 {
		return cfg, errors.New("bench: no --rows given")
	}
	for _, n := range cfg.Rows {
		if n < 1 {
			return cfg, fmt.Errorf("bench: --rows %d: want a positive count", n)
		}
	}
	for _, w := range cfg.Workers {
		if w < 1 {
			return cfg, fmt.Errorf("bench: --workers %d: want a positive count of replicas", w)
		}
	}
	cfg.Rows = slices.Clone(cfg.Rows)
	slices.Sort(cfg.Rows)
	if cfg.Binary == "" {
		return cfg, errors.New("bench: no acode binary to run")
	}
	if cfg.WAN != nil && cfg.S3 {
		return cfg, errors.New("bench: --wan and --s3 together are not supported: the S3 server is not reachable from the WAN link's namespace")
	}
	if cfg.Database == "" {
		cfg.Database = "acode_bench"
	}
	if cfg.Repeat < 1 {
		cfg.Repeat = 1
	}
	if cfg.BufferPool == "" {
		// About 330 bytes a row in InnoDB, plus the demo's complemento
		// (0.6 rows per row): a pool that holds both keeps the reads in
		// memory, as on a production server with a warm pool.
		// At most half the machine's memory, which leaves room for the
		// page cache and the tools measured.
		need := int64(slices.Max(cfg.Rows)) * 600
		if half := memTotal() / 2; half > 0 {
			need = min(need, half)
		}
		cfg.BufferPool = fmt.Sprintf("%dM", max(2048, need>>20))
	}
	return cfg, nil
}

// measureSize fills the table with n rows and runs every tool on it.
func measureSize(ctx context.Context, cfg Config, src *source, s3 *s3Server, pg *sandbox.Postgres, dir string, n int, out io.Writer) (*SizeRuns, error) {
	if err := src.fill(ctx, n, out); err != nil {
		return nil, err
	}
	sr := &SizeRuns{Rows: n, TableBytes: src.tableBytes(ctx)}
	// A warm-up dump brings the table into the buffer pool, so the first
	// timed tool does not pay for reading it from disk.
	if _, err := src.dump(ctx, false); err != nil {
		return sr, err
	}
	dumps := []bool{false}
	if cfg.WAN != nil {
		dumps = append(dumps, true) // mysqldump --compress
	}
	var dump, dumpCompressed Measurement
	for _, compress := range dumps {
		m, err := best(cfg.Repeat, func() (Measurement, error) {
			return src.timed(ctx, func() (Measurement, error) { return src.dump(ctx, compress) })
		})
		if err != nil {
			return sr, err
		}
		if compress {
			dumpCompressed = m
			m.Ratio = m.RowsPerSec / dump.RowsPerSec
		} else {
			dump = m
		}
		sr.Runs = append(sr.Runs, m)
		printRow(out, n, m)
	}
	for _, v := range syncVariants(cfg, s3 != nil) {
		name := fmt.Sprintf("project-%d-%s", n, v.dest)
		if v.compress {
			name += "-compress"
		}
		if v.pgState {
			name += "-pgstate"
		}
		settings := cfg.Settings
		if v.compressedReads > 0 {
			name += fmt.Sprintf("-compressed-reads-%d", v.compressedReads)
			settings = append(slices.Clone(settings), fmt.Sprintf("compressed_reads: %d", v.compressedReads))
		}
		p, err := writeProject(filepath.Join(dir, name), src, s3, v.dest, settings, qualityOn, v.compress)
		if err != nil {
			return sr, err
		}
		if v.compressedReads > 0 {
			p.tool += fmt.Sprintf("_compressed_reads_%d", v.compressedReads)
		}
		if v.pgState {
			if err := p.usePostgresState(ctx, pg, fmt.Sprintf("bench_state_%d", n)); err != nil {
				return sr, err
			}
		}
		if v.dest == "local" && !v.compress && v.compressedReads == 0 && !v.pgState && cfg.MeasureQuality {
			if err := measureQuality(ctx, cfg, src, p, dir, n, dump, sr, out); err != nil {
				return sr, err
			}
			continue
		}
		run := func() (Measurement, error) { return p.sync(ctx, cfg) }
		if v.dest == "s3" {
			run = s3.timed(run)
		}
		m, err := best(cfg.Repeat, func() (Measurement, error) { return src.timed(ctx, run) })
		if err != nil {
			return sr, err
		}
		m.Ratio = m.RowsPerSec / dump.RowsPerSec
		if dumpCompressed.RowsPerSec > 0 {
			m.RatioCompressed = m.RowsPerSec / dumpCompressed.RowsPerSec
		}
		sr.Runs = append(sr.Runs, m)
		printRow(out, n, m)
		if err := p.removeOutput(ctx, cfg, s3, v.dest); err != nil {
			return sr, fmt.Errorf("remove %s's output: %w", m.Tool, err)
		}
	}
	comparePostgresState(out, sr)
	if len(cfg.Workers) > 0 {
		if err := measureWorkers(ctx, cfg, src, s3, pg, dir, n, dump, sr, out); err != nil {
			return sr, err
		}
	}
	return sr, nil
}

// syncVariant is one way the benchmark runs acode sync.
type syncVariant struct {
	dest     string // local or s3
	compress bool   // the MySQL protocol's compression on
	pgState  bool   // state_db on PostgreSQL instead of SQLite
	// compressedReads is sync.compressed_reads: that many readers on the
	// protocol's compression, the others plain.
	compressedReads int
}

// syncVariants are the syncs of a run: local, S3 when asked, and over a
// WAN link also local with the protocol's compression on every connection
// and on half the range readers (sync.compressed_reads; at least one).
func syncVariants(cfg Config, s3 bool) []syncVariant {
	vs := []syncVariant{{dest: "local"}}
	if s3 {
		vs = append(vs, syncVariant{dest: "s3"})
	}
	if cfg.WAN != nil {
		vs = append(vs, syncVariant{dest: "local", compress: true})
		if !slices.ContainsFunc(cfg.Settings, func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), "compressed_reads:") }) {
			vs = append(vs, syncVariant{dest: "local", compressedReads: max(1, rangeReaders(cfg)/2)})
		}
	}
	if cfg.StatePostgres {
		vs = append(vs, syncVariant{dest: "local", pgState: true})
	}
	return vs
}

// measureQuality times the local sync with quality checks on (p), without
// the source counts, and off, alternating the three so that a change of load
// on the machine hits all alike; each keeps its fastest run.
func measureQuality(ctx context.Context, cfg Config, src *source, p *project, dir string, n int, dump Measurement, sr *SizeRuns, out io.Writer) error {
	projects := []*project{p}
	for _, q := range []string{qualityNoCount, qualityOff} {
		v, err := writeProject(filepath.Join(dir, fmt.Sprintf("project-%d-local%s", n, q)), src, nil, "local", cfg.Settings, q, false)
		if err != nil {
			return err
		}
		projects = append(projects, v)
	}
	fastest := make([]Measurement, len(projects))
	for i := range cfg.Repeat {
		for j, v := range projects {
			m, err := src.timed(ctx, func() (Measurement, error) { return v.sync(ctx, cfg) })
			if err != nil {
				return err
			}
			if i == 0 || m.Seconds < fastest[j].Seconds {
				fastest[j] = m
			}
			if err := v.removeOutput(ctx, cfg, nil, "local"); err != nil {
				return fmt.Errorf("remove %s's output: %w", m.Tool, err)
			}
		}
	}
	for _, m := range fastest {
		m.Ratio = m.RowsPerSec / dump.RowsPerSec
		sr.Runs = append(sr.Runs, m)
		printRow(out, n, m)
	}
	on, noCount, off := fastest[0], fastest[1], fastest[2]
	sr.QualityOverhead = overhead(on, off)
	sr.StatisticsOverhead = overhead(noCount, off)
	fmt.Fprintf(out, "# at %d rows, statistics and rules add %+.1f%% wall, %+.1f%% CPU; with the source's count per range, %+.1f%% wall, %+.1f%% CPU\n",
		n, 100*sr.StatisticsOverhead.Wall, 100*sr.StatisticsOverhead.CPU, 100*sr.QualityOverhead.Wall, 100*sr.QualityOverhead.CPU)
	return nil
}

func overhead(with, without Measurement) *Overhead {
	return &Overhead{Wall: with.Seconds/without.Seconds - 1, CPU: with.CPUSeconds/without.CPUSeconds - 1}
}

// best runs fn repeat times and keeps the fastest measurement.
func best(repeat int, fn func() (Measurement, error)) (Measurement, error) {
	var top Measurement
	for i := range repeat {
		m, err := fn()
		if err != nil {
			return m, err
		}
		if i == 0 || m.Seconds < top.Seconds {
			top = m
		}
	}
	return top, nil
}

func printJSON(out io.Writer, rep *Report) {
	b, _ := json.Marshal(rep)
	fmt.Fprintf(out, "%s\n", b)
}

// memTotal is the machine's memory in bytes from /proc/meminfo, 0 if unknown.
func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kib, _ := strconv.ParseInt(f[1], 10, 64)
			return kib << 10
		}
	}
	return 0
}

// rangeReaders is how many range readers each sync of the run has:
// max_parallel_reads (a --set, else the default 4), at most one a core.
func rangeReaders(cfg Config) int {
	reads := 4
	for _, l := range cfg.Settings {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "max_parallel_reads:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				reads = n
			}
		}
	}
	return max(1, min(reads, runtime.GOMAXPROCS(0)))
}

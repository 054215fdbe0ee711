package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/acode-dev/acode/internal/demo"
)

// project is an Octavia project with one connection of one stream (the
// benchmark table) to a local directory or to the bench's S3 server.
type project struct {
	dir  string
	tool string // the name its runs are reported under
	env  []string
	src  *source // runs its syncs as it runs its tools (see source.command)
}

const benchConnection = "connection_bench"

// removeOutput deletes what the project's syncs wrote (its local output
// directory, or every object of the bench bucket), once its runs are
// measured, unless cfg.KeepOutput: at the seed's size each variant writes
// about 5 GB, and keeping them all would need several times the disk one
// run does.
func (p *project) removeOutput(ctx context.Context, cfg Config, s3 *s3Server, dest string) error {
	if cfg.KeepOutput {
		return nil
	}
	if dest == "s3" {
		return s3.empty(ctx)
	}
	return os.RemoveAll(filepath.Join(p.dir, "out"))
}

// writeProject writes the project into dir (replacing an earlier one).
// Quality variants of the bench project: the checks as shipped, statistics
// and rules without the source's per-range counts, and no checks.
const (
	qualityOn      = ""
	qualityNoCount = "_nocount"
	qualityOff     = "_noquality"
)

// qualityYAML is the quality section of each variant.
var qualityYAML = map[string]string{
	qualityOn:      "quality:\n  enabled: true\n",
	qualityNoCount: "quality:\n  enabled: true\n  count_source: false\n",
	qualityOff:     "quality:\n  enabled: false\n",
}

// quality is one of the variants above; it also suffixes the tool's name.
// compress turns on the MySQL protocol's compression (jdbc_url_params
// useCompression=true) and suffixes the name with _compress.
func writeProject(dir string, src *source, s3 *s3Server, dest string, settings []string, quality string, compress bool) (*project, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "ACODE_BENCH_PASS="+src.password)
	destination := fmt.Sprintf(`resource_name: destination_bench
definition_type: destination
configuration:
  destination_path: %s
  s3_bucket_path: bench
  s3_path_format: "${STREAM_NAME}/cog_dt_ingestion=${YEAR}-${MONTH}-${DAY}/file_${STREAM_NAME}"
  format:
    format_type: Parquet
    compression_codec: SNAPPY
`, strconv.Quote(filepath.Join(dir, "out")))
	if dest == "s3" {
		env = append(env, "ACODE_BENCH_S3_KEY="+s3.AccessKey, "ACODE_BENCH_S3_SECRET="+s3.SecretKey)
		destination = fmt.Sprintf(`resource_name: destination_bench
definition_type: destination
configuration:
  s3_bucket_name: %s
  s3_bucket_region: %s
  s3_endpoint: %s
  s3_bucket_path: bench
  s3_path_format: "${STREAM_NAME}/cog_dt_ingestion=${YEAR}-${MONTH}-${DAY}/file_${STREAM_NAME}"
  access_key_id: ${ACODE_BENCH_S3_KEY}
  secret_access_key: ${ACODE_BENCH_S3_SECRET}
  format:
    format_type: Parquet
    compression_codec: SNAPPY
`, s3.bucket, s3.Region, s3.Endpoint)
	}
	host, port := src.addr()
	params, suffix := "", ""
	if compress {
		params, suffix = "  jdbc_url_params: useCompression=true\n", "_compress"
	}
	files := map[string]string{
		"sources/source_bench/configuration.yaml": fmt.Sprintf(`resource_name: source_bench
definition_type: source
configuration:
  host: %s
  port: %d
  database: %s
  username: %s
  password: ${ACODE_BENCH_PASS}
%s  ssl_mode:
    mode: preferred
`, host, port, src.database, src.user, params),
		"destinations/destination_bench/configuration.yaml": destination,
		"connections/" + benchConnection + "/configuration.yaml": fmt.Sprintf(`resource_name: %s
definition_type: connection
source_configuration_path: sources/source_bench/configuration.yaml
destination_configuration_path: destinations/destination_bench/configuration.yaml
configuration:
  status: active
  namespace_definition: source
  sync_catalog:
    streams:
      - config:
          sync_mode: full_refresh
          destination_sync_mode: append
          selected: true
        stream:
          name: %s
          namespace: %s
`, benchConnection, demo.TableDiario, src.database),
		"acode.yaml": "state_db: state.db\nsync:\n  spool_dir: spool\n" + indent(settings) + qualityYAML[quality],
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			return nil, fmt.Errorf("write bench project: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "spool"), 0o755); err != nil {
		return nil, err
	}
	return &project{dir: dir, tool: "acode_" + dest + quality + suffix, env: env, src: src}, nil
}

func indent(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// syncResult is the part of `acode sync --json` the benchmark reads.
type syncResult struct {
	Status string `json:"status"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
}

// sync times `acode sync --json` of the bench connection as a child process.
func (p *project) sync(ctx context.Context, cfg Config) (Measurement, error) {
	level := "warn"
	env := append(slices.Clone(p.env), cfg.ChildEnv...)
	var log io.Writer
	if cfg.ProfileDir != "" {
		env = append(env, "ACODE_CPUPROFILE="+filepath.Join(cfg.ProfileDir, "cpu-"+p.tool+".pprof"),
			"ACODE_MEMPROFILE="+filepath.Join(cfg.ProfileDir, "mem-"+p.tool+".pprof"))
		f, err := os.Create(filepath.Join(cfg.ProfileDir, "log-"+p.tool+".txt"))
		if err != nil {
			return Measurement{}, fmt.Errorf("sync log: %w", err)
		}
		defer f.Close()
		level, log = "debug", f // when each part was stored, how long the commit took
	}
	args := []string{"--config", p.dir, "--log-level", level, "sync", "--json", benchConnection}
	l := load1()
	name, args := p.src.command(cfg.Binary, args)
	c, err := runChild(ctx, name, args, env, nil, log)
	if err != nil {
		return Measurement{}, err
	}
	var res syncResult
	if err := json.Unmarshal(c.stdout, &res); err != nil {
		return Measurement{}, fmt.Errorf("read acode sync --json: %w", err)
	}
	if res.Status != "succeeded" {
		return Measurement{}, fmt.Errorf("acode sync ended %s", res.Status)
	}
	return c.measurement(p.tool, res.Rows, res.Bytes, l), nil
}

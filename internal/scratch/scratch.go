// Package scratch owns the local directory where jobs keep their part files
// between encoding and upload (the spool) and, with quarantine on, until the
// stream's quality verdict (the kept copies). Each job gets its own
// directory, <root>/<connection>/job-<id>, so that what a killed process
// left is found by name and removed once the state store says its job has
// ended: a crash loop cannot fill the disk with the Parquet bytes of jobs
// that will never finish.
package scratch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Dir is the scratch root of a project (sync.spool_dir).
type Dir struct {
	Root string
}

// JobDir is one job's directory and what it holds.
type JobDir struct {
	Connection string `json:"connection"`
	JobID      int64  `json:"job_id"`
	Path       string `json:"path"`
	Bytes      int64  `json:"bytes"`
}

// Ended says whether a job is over for good (or unknown to the state
// store): its directory can go. A job still live in the store, whoever runs
// it, keeps its directory.
type Ended func(ctx context.Context, jobID int64) (bool, error)

const jobPrefix = "job-"

// Job is the directory of a job of connection (not created).
func (d Dir) Job(connection string, jobID int64) string {
	return filepath.Join(d.connection(connection), jobPrefix+strconv.FormatInt(jobID, 10))
}

// Create makes the job's directory, readable by this user only: it holds
// the source's rows.
func (d Dir) Create(connection string, jobID int64) (string, error) {
	p := d.Job(connection, jobID)
	if err := os.MkdirAll(p, 0o700); err != nil {
		return "", fmt.Errorf("create scratch dir of job %d: %w", jobID, err)
	}
	return p, nil
}

// CDC is the directory of connection's CDC reader: the change-log files
// it is writing and their spooled pages. One reader runs per connection,
// so whatever is there when it starts was left by a killed one.
func (d Dir) CDC(connection string) string {
	return filepath.Join(d.connection(connection), "cdc")
}

// Compact is the directory of connection's CDC compaction: the change-log
// and snapshot files it downloaded and the parts it is writing. One
// compaction runs per connection (its lock), so whatever is there when it
// starts was left by a killed one.
func (d Dir) Compact(connection string) string {
	return filepath.Join(d.connection(connection), "compact")
}

// connection is the directory of a connection's jobs. A resource name is
// a plain identifier; escaping keeps any other name inside the root.
func (d Dir) connection(name string) string {
	return filepath.Join(d.Root, url.PathEscape(name))
}

// Jobs lists the job directories of connection ("" = every connection),
// with their sizes, oldest job first.
func (d Dir) Jobs(connection string) ([]JobDir, error) {
	conns := []string{connection}
	if connection == "" {
		var err error
		if conns, err = d.connections(); err != nil {
			return nil, err
		}
	}
	var out []JobDir
	for _, c := range conns {
		entries, err := os.ReadDir(d.connection(c))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list scratch dir: %w", err)
		}
		for _, e := range entries {
			id, ok := jobID(e)
			if !ok {
				continue
			}
			p := filepath.Join(d.connection(c), e.Name())
			out = append(out, JobDir{Connection: c, JobID: id, Path: p, Bytes: size(p)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].JobID < out[j].JobID })
	return out, nil
}

func (d Dir) connections() ([]string, error) {
	entries, err := os.ReadDir(d.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list scratch dir: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if name, err := url.PathUnescape(e.Name()); err == nil {
			out = append(out, name)
		}
	}
	return out, nil
}

func jobID(e fs.DirEntry) (int64, bool) {
	if !e.IsDir() || !strings.HasPrefix(e.Name(), jobPrefix) {
		return 0, false
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(e.Name(), jobPrefix), 10, 64)
	return id, err == nil && id > 0
}

// Clean removes the directories of connection's jobs ("" = every
// connection) that ended says are over, except keep's (the caller's own
// job, 0 for none), and returns what it removed. A job still live is
// spared: another process may be writing there.
func (d Dir) Clean(ctx context.Context, connection string, keep int64, ended Ended) ([]JobDir, error) {
	jobs, err := d.Jobs(connection)
	if err != nil {
		return nil, err
	}
	var removed []JobDir
	var errs []error
	for _, j := range jobs {
		if j.JobID == keep {
			continue
		}
		over, err := ended(ctx, j.JobID)
		if err != nil {
			errs = append(errs, fmt.Errorf("job %d: %w", j.JobID, err))
			continue
		}
		if !over {
			continue
		}
		if err := os.RemoveAll(j.Path); err != nil {
			errs = append(errs, fmt.Errorf("remove scratch dir of job %d: %w", j.JobID, err))
			continue
		}
		removed = append(removed, j)
	}
	return removed, errors.Join(errs...)
}

// Usage is the bytes every connection's job directories hold.
func (d Dir) Usage() (map[string]int64, error) {
	jobs, err := d.Jobs("")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, j := range jobs {
		out[j.Connection] += j.Bytes
	}
	return out, nil
}

// size is the bytes of the regular files under p; files vanishing while it
// walks (a job removing its spool) are skipped.
func size(p string) int64 {
	var n int64
	filepath.WalkDir(p, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		if info, err := e.Info(); err == nil {
			n += info.Size()
		}
		return nil
	})
	return n
}

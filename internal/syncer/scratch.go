package syncer

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"

	"github.com/acode-dev/acode/internal/scratch"
)

// Scratch is the project's scratch root (sync.spool_dir): one directory
// per job holds its spool and kept part files.
func (s *Syncer) Scratch() scratch.Dir {
	return scratch.Dir{Root: s.Project.Settings.Sync.SpoolDir}
}

// CleanScratch removes the scratch directories that dead jobs of
// connection ("" = every connection) left: a job killed with kill -9
// never removes its own. A job still running in another process keeps its
// directory (the state store says who is alive).
func (s *Syncer) CleanScratch(ctx context.Context, connection string) ([]scratch.JobDir, error) {
	return s.Scratch().Clean(ctx, connection, 0, s.State.JobDead)
}

// cleanScratch is CleanScratch at the start of a job, which holds the
// connection's slot: it spares the job's own directory and logs the rest.
func (s *Syncer) cleanScratch(ctx context.Context, connection string, jobID int64, log *slog.Logger) {
	removed, err := s.Scratch().Clean(ctx, connection, jobID, s.State.JobDead)
	if err != nil {
		log.Warn("remove scratch dirs of dead jobs", "err", err)
	}
	var bytes int64
	for _, d := range removed {
		bytes += d.Bytes
	}
	if len(removed) > 0 {
		log.Info("removed scratch dirs of dead jobs", "dirs", len(removed), "bytes", bytes)
	}
}

// tempDir makes a directory for one stream's files (kind: spool, kept)
// inside the job's scratch directory.
func tempDir(jobDir, kind, stream string) (string, error) {
	if err := os.MkdirAll(jobDir, 0o700); err != nil {
		return "", fmt.Errorf("create scratch dir of the job: %w", err)
	}
	return os.MkdirTemp(jobDir, kind+"-"+url.PathEscape(stream)+"-")
}

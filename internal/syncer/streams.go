package syncer

import (
	"context"
	"log/slog"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
)

// pendingStreams records every selected stream of the job as pending, so
// the job's result, `acode jobs` and the API list each one with its status
// from the start, including a stream that never gets to run.
func (s *Syncer) pendingStreams(ctx context.Context, conn *config.Connection, job state.Job, log *slog.Logger) []StreamResult {
	var out []StreamResult
	for _, str := range conn.SelectedStreams() {
		r := StreamResult{Name: str.Name, Namespace: conn.Namespace(str), Status: StreamPending, Files: []string{}}
		out = append(out, r)
		s.saveStream(ctx, job, r, log)
	}
	return out
}

// closeStreams gives the streams that did not end in the job (never
// started, because the attempt failed before them or the job was
// cancelled) their final status and the job's error.
func (s *Syncer) closeStreams(ctx context.Context, job state.Job, res *Result, log *slog.Logger) {
	for i, r := range res.Streams {
		if r.Status != StreamPending && r.Status != StreamRunning {
			continue
		}
		r.Status = StreamFailed
		if res.Status == string(state.JobCancelled) {
			r.Status = StreamCancelled
		}
		if r.Error == "" {
			r.Error = "not run: " + res.Error
		}
		res.Streams[i] = r
		s.saveStream(ctx, job, r, log)
	}
}

func (s *Syncer) saveStream(ctx context.Context, job state.Job, r StreamResult, log *slog.Logger) {
	err := s.State.SaveStreamResult(context.WithoutCancel(ctx), state.StreamResult{
		JobID: job.ID, Stream: r.Name, Partition: r.Partition, Status: string(r.Status),
		Rows: r.Rows, Bytes: r.Bytes, Files: r.Files, ManifestKey: r.Manifest, Error: r.Error,
	})
	if err != nil {
		log.Error("record stream result", "stream", r.Name, "err", err)
	}
}

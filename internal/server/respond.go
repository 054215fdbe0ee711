package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/jobs"
	"github.com/acode-dev/acode/internal/state"
)

// maxBody bounds request bodies: every request is a few fields of JSON.
const maxBody = 1 << 20

// apiError is the body of every error response: the HTTP status, its text,
// and a message a person can act on. JobID names the running job of a
// conflict.
type apiError struct {
	Status  int    `json:"status"`
	Title   string `json:"title"`
	Message string `json:"message"`
	JobID   int64  `json:"jobId,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to do
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Status: status, Title: http.StatusText(status), Message: msg})
}

// writeErr maps an error from the runner or the store to its HTTP status.
// Only the messages of known, user-facing errors are shown; anything else
// is logged by the caller and reported as an internal error.
func (s *Server) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var (
		busy     *state.AlreadyRunningError
		notOwned *jobs.NotOwnedError
	)
	switch {
	case errors.As(err, &busy):
		writeJSON(w, http.StatusConflict, apiError{Status: http.StatusConflict, Title: http.StatusText(http.StatusConflict),
			Message: busy.Error(), JobID: busy.JobID})
	case errors.As(err, &notOwned):
		writeJSON(w, http.StatusConflict, apiError{Status: http.StatusConflict, Title: http.StatusText(http.StatusConflict),
			Message: notOwned.Error(), JobID: notOwned.Job.ID})
	case errors.Is(err, config.ErrUnknownConnection):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, state.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, jobs.ErrShuttingDown):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client left; it reads nothing.
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error; see the acode log")
	}
}

// decodeBody reads a JSON request body into v; on failure it has already
// written a 400 and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "request body must be a JSON object: "+err.Error())
		return false
	}
	return true
}

// jobID is a job id in a request: Airflow sends a number, some scripts a
// string.
type jobID int64

func (id *jobID) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("job id must be a whole number, got %s", b)
	}
	*id = jobID(n)
	return nil
}

// pathJobID reads the {id} path value; on failure it has written a 400.
func pathJobID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("job id must be a whole number, got %q", r.PathValue("id")))
		return 0, false
	}
	return n, true
}

// cancelWait bounds how long a cancel request waits for the job to record
// its end; past it the reply shows the job still stopping.
const cancelWait = 20 * time.Second

// cancelJob cancels job id for a request.
func (s *Server) cancelJob(r *http.Request, id int64) (state.Job, error) {
	ctx, cancel := context.WithTimeout(r.Context(), cancelWait)
	defer cancel()
	return s.runner.Cancel(ctx, id)
}

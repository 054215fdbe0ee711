package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

// The Airbyte config API, as Airflow's provider up to 3.x calls it: POST
// everywhere, JSON bodies, and a JobInfoRead in every job response of which
// the provider reads job.id and job.status.

type jobInfoRead struct {
	Job      jobRead           `json:"job"`
	Attempts []attemptInfoRead `json:"attempts"`
}

type jobRead struct {
	ID         int64  `json:"id"`
	ConfigType string `json:"configType"`
	ConfigID   string `json:"configId"`
	CreatedAt  int64  `json:"createdAt"` // epoch seconds
	UpdatedAt  int64  `json:"updatedAt"`
	StartedAt  *int64 `json:"startedAt,omitempty"`
	Status     string `json:"status"`
}

type attemptInfoRead struct {
	Attempt attemptRead `json:"attempt"`
	Logs    logRead     `json:"logs"`
}

type attemptRead struct {
	ID            int64  `json:"id"` // Airbyte numbers attempts from 0
	Status        string `json:"status"`
	CreatedAt     int64  `json:"createdAt"`
	UpdatedAt     int64  `json:"updatedAt"`
	EndedAt       *int64 `json:"endedAt,omitempty"`
	BytesSynced   int64  `json:"bytesSynced"`
	RecordsSynced int64  `json:"recordsSynced"`
}

type logRead struct {
	LogLines []string `json:"logLines"`
}

// connectionID is the id Airbyte clients know a connection by: its UUID
// when the connection is still configured, else its name.
func (s *Server) connectionID(name string) string {
	if c, ok := s.project.Connections[name]; ok {
		return c.ID
	}
	return name
}

// jobInfo builds the config API's view of job: the run it began, through
// the jobs that continued it (see jobChain). The attempts are every job's
// in order, numbered on from the first job's; each job's last attempt
// carries that job's totals.
func (s *Server) jobInfo(r *http.Request, job state.Job) (jobInfoRead, error) {
	c, err := s.chainOf(r.Context(), job)
	if err != nil {
		return jobInfoRead{}, err
	}
	first := c.first()
	info := jobInfoRead{
		Job: jobRead{ID: first.ID, ConfigType: "sync", ConfigID: s.connectionID(first.Connection),
			CreatedAt: first.CreatedAt.Unix(), UpdatedAt: c.updatedAt().Unix(), StartedAt: unixPtr(first.StartedAt),
			Status: string(c.status())},
		Attempts: []attemptInfoRead{},
	}
	for _, j := range c.jobs {
		atts, err := s.state.Attempts(r.Context(), j.ID)
		if err != nil {
			return jobInfoRead{}, err
		}
		for i, a := range atts {
			ar := attemptRead{ID: int64(len(info.Attempts)), Status: string(a.Status), CreatedAt: a.CreatedAt.Unix(),
				UpdatedAt: a.UpdatedAt.Unix(), EndedAt: unixPtr(a.EndedAt)}
			if i == len(atts)-1 {
				// The store keeps totals per job; the last attempt is the
				// one that wrote them.
				ar.BytesSynced, ar.RecordsSynced = j.Bytes, j.Rows
			}
			info.Attempts = append(info.Attempts, attemptInfoRead{Attempt: ar, Logs: logRead{LogLines: []string{}}})
		}
	}
	return info, nil
}

func unixPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.Unix()
	return &v
}

func (s *Server) handleConfigHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"available": true})
}

func (s *Server) handleConfigSync(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ConnectionID string `json:"connectionId"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.ConnectionID == "" {
		writeError(w, http.StatusBadRequest, "connectionId is required: the connection's UUID or resource_name")
		return
	}
	s.configSync(w, r, req.ConnectionID)
}

func (s *Server) handleConfigSyncPath(w http.ResponseWriter, r *http.Request) {
	s.configSync(w, r, r.PathValue("name"))
}

func (s *Server) configSync(w http.ResponseWriter, r *http.Request, connection string) {
	job, err := s.runner.Trigger(r.Context(), connection)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.writeJobInfo(w, r, job)
}

func (s *Server) handleConfigGetJob(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID jobID `json:"id"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	job, err := s.state.Job(r.Context(), int64(req.ID))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.writeJobInfo(w, r, job)
}

func (s *Server) handleConfigCancel(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID jobID `json:"id"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	job, err := s.cancelJob(r, int64(req.ID))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.writeJobInfo(w, r, job)
}

func (s *Server) writeJobInfo(w http.ResponseWriter, r *http.Request, job state.Job) {
	info, err := s.jobInfo(r, job)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// The Airbyte public API, as Airflow's provider 4+ calls it through
// Airbyte's Python SDK: a JobResponse per job.

type jobResponse struct {
	JobID         int64  `json:"jobId"`
	Status        string `json:"status"`
	JobType       string `json:"jobType"`
	ConnectionID  string `json:"connectionId"`
	StartTime     string `json:"startTime"`
	LastUpdatedAt string `json:"lastUpdatedAt"`
	Duration      string `json:"duration"` // ISO 8601, e.g. PT1M2S
	BytesSynced   int64  `json:"bytesSynced"`
	RowsSynced    int64  `json:"rowsSynced"`
}

// jobResponse is the public API's view of the run job began (see
// jobChain).
func (s *Server) jobResponse(r *http.Request, job state.Job) (jobResponse, error) {
	c, err := s.chainOf(r.Context(), job)
	if err != nil {
		return jobResponse{}, err
	}
	first := c.first()
	end := s.now()
	if e := c.endedAt(); e != nil {
		end = *e
	}
	rows, bytes := c.totals()
	return jobResponse{
		JobID: first.ID, Status: string(c.status()), JobType: "sync", ConnectionID: s.connectionID(first.Connection),
		StartTime: first.CreatedAt.UTC().Format(time.RFC3339), LastUpdatedAt: c.updatedAt().UTC().Format(time.RFC3339),
		Duration: isoDuration(end.Sub(first.CreatedAt)), BytesSynced: bytes, RowsSynced: rows,
	}, nil
}

func (s *Server) writeJobResponse(w http.ResponseWriter, r *http.Request, job state.Job) {
	resp, err := s.jobResponse(r, job)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// isoDuration formats d as an ISO 8601 duration in whole seconds: PT0S,
// PT45S, PT1M2S, PT2H0M5S.
func isoDuration(d time.Duration) string {
	sec := int64(d.Round(time.Second) / time.Second)
	if sec < 0 {
		sec = 0
	}
	h, m, sc := sec/3600, sec/60%60, sec%60
	switch {
	case h > 0:
		return fmt.Sprintf("PT%dH%dM%dS", h, m, sc)
	case m > 0:
		return fmt.Sprintf("PT%dM%dS", m, sc)
	}
	return fmt.Sprintf("PT%dS", sc)
}

func (s *Server) handlePublicHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handlePublicCreateJob(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ConnectionID string `json:"connectionId"`
		JobType      string `json:"jobType"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	switch {
	case req.ConnectionID == "":
		writeError(w, http.StatusBadRequest, "connectionId is required: the connection's UUID or resource_name")
		return
	case req.JobType != "sync":
		writeError(w, http.StatusBadRequest, fmt.Sprintf("jobType %q is not supported: acode runs sync jobs only", req.JobType))
		return
	}
	job, err := s.runner.Trigger(r.Context(), req.ConnectionID)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.writeJobResponse(w, r, job)
}

func (s *Server) handlePublicGetJob(w http.ResponseWriter, r *http.Request) {
	id, ok := pathJobID(w, r)
	if !ok {
		return
	}
	job, err := s.state.Job(r.Context(), id)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.writeJobResponse(w, r, job)
}

func (s *Server) handlePublicCancel(w http.ResponseWriter, r *http.Request) {
	id, ok := pathJobID(w, r)
	if !ok {
		return
	}
	job, err := s.cancelJob(r, id)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.writeJobResponse(w, r, job)
}

package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/acode-dev/acode/internal/state"
)

// acode's own API under /api/acode/: what a person or a script wants to
// know about the service, in acode's words (snake_case, RFC 3339 times).
// Nothing here carries a secret: connections are shown by name, never by
// their source or destination settings.

type jobView struct {
	ID              int64      `json:"id"`
	Connection      string     `json:"connection"`
	ConnectionID    string     `json:"connection_id"`
	Source          string     `json:"source"`
	Status          string     `json:"status"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	StartedAt       *time.Time `json:"started_at,omitempty"`
	EndedAt         *time.Time `json:"ended_at,omitempty"`
	DurationSeconds float64    `json:"duration_seconds"`
	Rows            int64      `json:"rows"`
	Bytes           int64      `json:"bytes"`
	Owner           string     `json:"owner"`
	Error           string     `json:"error,omitempty"`
	// ContinuedBy is the job that took over when this one failed inside
	// a failover run (the backup's job); see jobChain.
	ContinuedBy int64 `json:"continued_by,omitempty"`
}

func (s *Server) jobView(j state.Job) jobView {
	end := s.now()
	if j.EndedAt != nil {
		end = *j.EndedAt
	}
	return jobView{
		ID: j.ID, Connection: j.Connection, ConnectionID: s.connectionID(j.Connection), Source: j.Source,
		Status: string(j.Status), CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, StartedAt: j.StartedAt, EndedAt: j.EndedAt,
		DurationSeconds: end.Sub(j.CreatedAt).Round(time.Millisecond).Seconds(), Rows: j.Rows, Bytes: j.Bytes,
		Owner: j.Owner, Error: j.Error, ContinuedBy: j.ContinuedBy,
	}
}

type jobDetail struct {
	jobView
	// Continues is the failed job this one took over from (the primary's,
	// for the in-job failover's backup job).
	Continues int64          `json:"continues,omitempty"`
	Chain     *chainView     `json:"chain,omitempty"`
	Attempts  []attemptView  `json:"attempts"`
	Streams   []streamView   `json:"streams"`
	Progress  []progressView `json:"progress,omitempty"` // live, while this server runs the job
}

// chainView is the run a job belongs to when a failover continued it, as
// Airflow sees the run through its first job's id: the job ids in order,
// the run's status and what it delivered.
type chainView struct {
	FirstJob int64   `json:"first_job"`
	Jobs     []int64 `json:"jobs"`
	Status   string  `json:"status"`
	Rows     int64   `json:"rows"`
	Bytes    int64   `json:"bytes"`
}

type attemptView struct {
	Number    int        `json:"number"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	Error     string     `json:"error,omitempty"`
}

type streamView struct {
	Stream      string     `json:"stream"`
	Partition   string     `json:"partition"`
	Status      string     `json:"status"`
	Rows        int64      `json:"rows"`
	Bytes       int64      `json:"bytes"`
	Files       []string   `json:"files"`
	ManifestKey string     `json:"manifest_key,omitempty"`
	Error       string     `json:"error,omitempty"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
}

type progressView struct {
	Stream    string `json:"stream"`
	State     string `json:"state"`
	Rows      int64  `json:"rows"`
	Bytes     int64  `json:"bytes"`
	Estimated int64  `json:"estimated_rows"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) jobDetail(r *http.Request, j state.Job) (jobDetail, error) {
	d := jobDetail{jobView: s.jobView(j), Attempts: []attemptView{}, Streams: []streamView{}}
	atts, err := s.state.Attempts(r.Context(), j.ID)
	if err != nil {
		return d, err
	}
	for _, a := range atts {
		d.Attempts = append(d.Attempts, attemptView{Number: a.Number, Status: string(a.Status), CreatedAt: a.CreatedAt, EndedAt: a.EndedAt, Error: a.Error})
	}
	streams, err := s.state.StreamResults(r.Context(), j.ID)
	if err != nil {
		return d, err
	}
	for _, sr := range streams {
		d.Streams = append(d.Streams, streamView{Stream: sr.Stream, Partition: sr.Partition, Status: sr.Status, Rows: sr.Rows,
			Bytes: sr.Bytes, Files: sr.Files, ManifestKey: sr.ManifestKey, Error: sr.Error,
			StartedAt: optTime(sr.StartedAt), EndedAt: optTime(sr.EndedAt)})
	}
	first, err := s.state.ChainHead(r.Context(), j.ID)
	if err != nil {
		return d, err
	}
	last := true
	if first != j.ID || j.ContinuedBy != 0 {
		if d.Continues, err = s.state.ContinuedFrom(r.Context(), j.ID); err != nil {
			return d, err
		}
		head, err := s.state.Job(r.Context(), first)
		if err != nil {
			return d, err
		}
		c, err := s.chainOf(r.Context(), head)
		if err != nil {
			return d, err
		}
		rows, bytes := c.totals()
		d.Chain = &chainView{FirstJob: first, Jobs: c.ids(), Status: string(c.status()), Rows: rows, Bytes: bytes}
		last = c.last().ID == j.ID
	}
	// A run's live counters belong to its newest job.
	if p, ok := s.runner.Progress(first); ok && last {
		for _, sp := range p.Streams() {
			d.Progress = append(d.Progress, progressView{Stream: sp.Name, State: sp.State(), Rows: sp.Rows(), Bytes: sp.Bytes(), Estimated: sp.Estimated})
		}
	}
	return d, nil
}

type connectionStatus struct {
	Name         string   `json:"name"`
	ID           string   `json:"id"`
	Status       string   `json:"status"`
	ScheduleType string   `json:"schedule_type"`
	Source       string   `json:"source"`
	Destination  string   `json:"destination"`
	Streams      []string `json:"streams"`
	RunningJob   *jobView `json:"running_job"`
	LastJob      *jobView `json:"last_job"`
	LastSuccess  *jobView `json:"last_success"`
}

type statusView struct {
	Time        time.Time          `json:"time"`
	Connections []connectionStatus `json:"connections"`
	RunningJobs []int64            `json:"running_jobs"`
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	out := statusView{Time: s.now().UTC(), Connections: []connectionStatus{}, RunningJobs: s.runner.Running()}
	for _, name := range s.project.ConnectionNames() {
		c := s.project.Connections[name]
		cs := connectionStatus{Name: name, ID: c.ID, Status: c.Status, ScheduleType: c.ScheduleType, Streams: []string{}}
		if c.Source != nil {
			cs.Source = c.Source.ResourceName
		}
		if c.Destination != nil {
			cs.Destination = c.Destination.ResourceName
		}
		for _, st := range c.SelectedStreams() {
			cs.Streams = append(cs.Streams, st.Name)
		}
		var err error
		if cs.LastJob, err = s.lastJob(r, name, ""); err == nil {
			cs.LastSuccess, err = s.lastJob(r, name, state.JobSucceeded)
		}
		if err != nil {
			s.writeErr(w, r, err)
			return
		}
		if cs.LastJob != nil && !state.JobStatus(cs.LastJob.Status).Terminal() {
			cs.RunningJob = cs.LastJob
		}
		out.Connections = append(out.Connections, cs)
	}
	writeJSON(w, http.StatusOK, out)
}

// lastJob is the connection's newest job with status, nil when none.
func (s *Server) lastJob(r *http.Request, connection string, status state.JobStatus) (*jobView, error) {
	j, err := s.state.LastJob(r.Context(), connection, status)
	if errors.Is(err, state.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v := s.jobView(j)
	return &v, nil
}

// handleListJobs lists jobs, newest first: ?connection= (name or id),
// ?status=, ?limit= (default 50).
func (s *Server) handleListJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := state.JobFilter{Limit: 50}
	if c := q.Get("connection"); c != "" {
		conn, err := s.project.Connection(c)
		if err != nil {
			s.writeErr(w, r, err)
			return
		}
		f.Connection = conn.ResourceName
	}
	if st := q.Get("status"); st != "" {
		f.Status = state.JobStatus(st)
		if !f.Status.Valid() {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("status %q: want pending, running, incomplete, failed, succeeded or cancelled", st))
			return
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit %q: want a number from 1 to 1000", l))
			return
		}
		f.Limit = n
	}
	list, err := s.state.ListJobs(r.Context(), f)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	out := make([]jobView, 0, len(list))
	for _, j := range list {
		out = append(out, s.jobView(j))
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": out})
}

func (s *Server) handleGetJob(w http.ResponseWriter, r *http.Request) {
	id, ok := pathJobID(w, r)
	if !ok {
		return
	}
	j, err := s.state.Job(r.Context(), id)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.writeJobDetail(w, r, j, http.StatusOK)
}

func (s *Server) handleCancelJob(w http.ResponseWriter, r *http.Request) {
	id, ok := pathJobID(w, r)
	if !ok {
		return
	}
	j, err := s.cancelJob(r, id)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.writeJobDetail(w, r, j, http.StatusOK)
}

// handleSync starts a job of the connection in the path and answers 202
// with it; poll GET /api/acode/jobs/{id}.
func (s *Server) handleSync(w http.ResponseWriter, r *http.Request) {
	j, err := s.runner.Trigger(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/acode/jobs/%d", j.ID))
	s.writeJobDetail(w, r, j, http.StatusAccepted)
}

func (s *Server) writeJobDetail(w http.ResponseWriter, r *http.Request, j state.Job, status int) {
	d, err := s.jobDetail(r, j)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, status, d)
}

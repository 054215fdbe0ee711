package syncer

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Progress is the live view of a running job: the CLI draws it on a terminal
// or logs it, the server exposes it. Counters are updated by the readers
// without locks.
type Progress struct {
	mu      sync.Mutex
	streams map[string]*StreamProgress
}

// StreamProgress counts one stream's rows as they are encoded.
type StreamProgress struct {
	Name      string
	Estimated int64 // rows the source estimated at the start; 0 when unknown
	Started   time.Time
	rows      atomic.Int64
	bytes     atomic.Int64
	state     atomic.Value // string
}

// Rows read and encoded so far.
func (s *StreamProgress) Rows() int64 { return s.rows.Load() }

// Bytes of Parquet uploaded so far.
func (s *StreamProgress) Bytes() int64 { return s.bytes.Load() }

// State is "waiting", "reading", "publishing", "committed" or "failed".
func (s *StreamProgress) State() string {
	v, _ := s.state.Load().(string)
	return v
}

func (s *StreamProgress) setState(v string) { s.state.Store(v) }

// NewProgress returns an empty Progress.
func NewProgress() *Progress { return &Progress{streams: map[string]*StreamProgress{}} }

func (p *Progress) stream(name string, estimated int64) *StreamProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	sp, ok := p.streams[name]
	if !ok {
		sp = &StreamProgress{Name: name}
		sp.setState("waiting")
		p.streams[name] = sp
	}
	sp.Estimated = estimated
	return sp
}

// Streams returns a snapshot of every stream's progress, by name.
func (p *Progress) Streams() []*StreamProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*StreamProgress, 0, len(p.streams))
	for _, s := range p.streams {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

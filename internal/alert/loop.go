package alert

import (
	"context"
	"time"
)

// Start runs the manager's loop until Stop: it evaluates the conditions
// every EvaluateEvery (escalations, throttle windows, resolutions) and
// handles job outcomes queued by QueueSyncEnded.
func (m *Manager) Start(ctx context.Context) {
	m.loopMu.Lock()
	defer m.loopMu.Unlock()
	if m.cancel != nil {
		return
	}
	ctx, m.cancel = context.WithCancel(ctx)
	m.done = make(chan struct{})
	go m.loop(ctx, m.done)
}

// Stop ends the loop, evaluates the job outcomes still queued (each send
// bounded by Timeout) and waits for it all.
func (m *Manager) Stop() {
	m.loopMu.Lock()
	cancel, done := m.cancel, m.done
	m.cancel = nil
	m.loopMu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
	// Jobs that ended after the loop stopped (cancelled during a shutdown
	// grace period) queued their outcome since: handle them too.
	m.drain(context.Background())
}

func (m *Manager) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(m.cfg.EvaluateEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			m.drain(ctx)
			return
		case o := <-m.queue:
			m.handleQueued(ctx, o)
		case <-t.C:
			if m.cfg.Lead != nil && !m.cfg.Lead() {
				continue
			}
			if err := m.Evaluate(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("evaluate alerts", "err", err)
			}
		}
	}
}

// drain handles the outcomes queued when the loop stops.
func (m *Manager) drain(stopped context.Context) {
	for {
		select {
		case o := <-m.queue:
			m.handleQueued(stopped, o)
		default:
			return
		}
	}
}

// handleQueued evaluates one job outcome. A stop does not cut it short:
// the job has ended, its alert is due; each send is bounded by Timeout.
func (m *Manager) handleQueued(ctx context.Context, o SyncOutcome) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*m.cfg.Timeout)
	defer cancel()
	if err := m.SyncEnded(ctx, o); err != nil {
		m.log.Warn("evaluate job outcome", "connection", o.Connection, "err", err)
	}
}

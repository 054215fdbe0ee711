package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/acode-dev/acode/internal/syncer"
)

// liveTerm is stderr when it is a terminal: the progress block is redrawn
// in place, and a log line written meanwhile goes above it (the block is
// cleared first and drawn again below on the next tick) instead of being
// overwritten or splitting the block.
type liveTerm struct {
	mu    sync.Mutex
	w     io.Writer
	drawn int // lines of the progress block now on screen, below the cursor's row
}

// Write clears the progress block and writes p where it was.
func (t *liveTerm) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clear()
	return t.w.Write(p)
}

func (t *liveTerm) clear() {
	if t.drawn > 0 {
		fmt.Fprintf(t.w, "\x1b[%dA\x1b[J", t.drawn)
		t.drawn = 0
	}
}

// draw replaces the progress block with lines.
func (t *liveTerm) draw(lines []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clear()
	io.WriteString(t.w, strings.Join(lines, ""))
	t.drawn = len(lines)
}

// stderrFor returns where logs and progress go: a liveTerm when w is a
// terminal, w itself otherwise.
func stderrFor(w io.Writer) io.Writer {
	if isTerminal(w) {
		return &liveTerm{w: w}
	}
	return w
}

// showProgress draws a live line per stream on a terminal and logs a summary
// every 10 s otherwise. The returned stop draws the final state and waits
// for the drawer to finish.
func showProgress(ctx context.Context, w io.Writer, p *syncer.Progress, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	term, tty := w.(*liveTerm)
	interval := 10 * time.Second
	if tty {
		interval = 500 * time.Millisecond
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				if tty {
					term.draw(progressLines(p))
					term.mu.Lock()
					term.drawn = 0 // the final state stays on screen
					term.mu.Unlock()
				}
				return
			case <-t.C:
				if tty {
					term.draw(progressLines(p))
					continue
				}
				for _, s := range p.Streams() {
					log.Info("progress", "stream", s.Name, "state", s.State(), "rows", s.Rows(), "rows_per_s", int(rate(s)), "percent", percent(s))
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

func progressLines(p *syncer.Progress) []string {
	var lines []string
	for _, s := range p.Streams() {
		eta := "-"
		if r := rate(s); r > 0 && s.Estimated > s.Rows() {
			eta = (time.Duration(float64(s.Estimated-s.Rows())/r) * time.Second).Round(time.Second).String()
		}
		lines = append(lines, fmt.Sprintf("\x1b[2K%-45s %-10s %12d rows %9.0f rows/s %5s%% ETA %s\n",
			s.Name, s.State(), s.Rows(), rate(s), percent(s), eta))
	}
	return lines
}

func rate(s *syncer.StreamProgress) float64 {
	if s.Started.IsZero() {
		return 0
	}
	el := time.Since(s.Started).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(s.Rows()) / el
}

func percent(s *syncer.StreamProgress) string {
	if s.Estimated <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f", min(100, 100*float64(s.Rows())/float64(s.Estimated)))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

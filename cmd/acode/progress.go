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

// showProgress draws a live line per stream on a terminal and logs a summary
// every 10 s otherwise. The returned stop waits for the drawer to finish.
func showProgress(ctx context.Context, w io.Writer, p *syncer.Progress, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	tty := isTerminal(w)
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
		drawn := 0
		for {
			select {
			case <-ctx.Done():
				if tty {
					drawn = drawProgress(w, p, drawn)
				}
				return
			case <-t.C:
				if tty {
					drawn = drawProgress(w, p, drawn)
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

func drawProgress(w io.Writer, p *syncer.Progress, drawn int) int {
	var b strings.Builder
	if drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", drawn)
	}
	streams := p.Streams()
	for _, s := range streams {
		eta := "-"
		if r := rate(s); r > 0 && s.Estimated > s.Rows() {
			eta = (time.Duration(float64(s.Estimated-s.Rows())/r) * time.Second).Round(time.Second).String()
		}
		fmt.Fprintf(&b, "\x1b[2K%-45s %-10s %12d rows %9.0f rows/s %5s%% ETA %s\n",
			s.Name, s.State(), s.Rows(), rate(s), percent(s), eta)
	}
	io.WriteString(w, b.String())
	return len(streams)
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

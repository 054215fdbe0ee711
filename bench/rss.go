package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// peakRSS follows a running child's peak resident set: VmHWM of
// /proc/PID/status, sampled until stop. The child's rusage cannot be used:
// os/exec starts children with CLONE_VM|CLONE_VFORK, and Linux carries the
// high-water mark of the memory the child ran on before its exec (the
// benchmark's own) into the child's ru_maxrss, so a child would never
// report less than the benchmark's RSS. VmHWM is the exec'd image's own
// and only grows, so the last sample before the exit is the peak but for
// the last few milliseconds.
type peakRSS struct {
	stop chan struct{}
	done chan int64 // the peak in KiB
}

const rssSampleEvery = 10 * time.Millisecond

func followRSS(pid int) *peakRSS {
	p := &peakRSS{stop: make(chan struct{}), done: make(chan int64, 1)}
	go func() {
		var peak int64
		t := time.NewTicker(rssSampleEvery)
		defer t.Stop()
		for {
			if kib, err := vmHWM(pid); err == nil {
				peak = max(peak, kib)
			}
			select {
			case <-p.stop:
				p.done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// Stop ends the sampling and returns the peak seen, in KiB. Call it once
// the child has exited (its status no longer holds VmHWM then).
func (p *peakRSS) Stop() int64 {
	close(p.stop)
	return <-p.done
}

// vmHWM reads a live process's peak resident set in KiB.
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(l, []byte("VmHWM:")); ok {
			return strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM (the process exited)", pid)
}

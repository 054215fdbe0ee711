package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes a CPU profile to $ACODE_CPUPROFILE and a heap
// profile to $ACODE_MEMPROFILE (each only when set) for the whole run of a
// command, so `acode bench --profile DIR` or a user chasing a slow sync can
// see where the time goes: go tool pprof acode cpu.pprof. The returned
// function stops them; call it before exiting.
func startProfiles() (stop func()) {
	cpuPath, memPath := os.Getenv("ACODE_CPUPROFILE"), os.Getenv("ACODE_MEMPROFILE")
	var cpu *os.File
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "acode: cpu profile:", err)
		} else {
			cpu = f
		}
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if memPath != "" {
			if err := writeHeapProfile(memPath); err != nil {
				fmt.Fprintln(os.Stderr, "acode: heap profile:", err)
			}
		}
	}
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	// allocs holds every allocation since the start (alloc_space) beside
	// what is live at the end (inuse_space).
	return pprof.Lookup("allocs").WriteTo(f, 0)
}

package state

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ownerGone reports whether a job's owner ("host:pid", as DefaultOwner
// writes it) is a process on this host that no longer exists. Such a job
// was killed (kill -9, OOM) and need not wait for its lease to expire: the
// next run can take over at once. Owners on other hosts, or in another
// form, are judged by their heartbeat alone.
func ownerGone(owner string) bool {
	host, pidText, ok := strings.Cut(owner, ":")
	if !ok {
		return false
	}
	me, err := os.Hostname()
	if err != nil || host != me {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

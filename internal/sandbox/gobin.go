package sandbox

import (
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
)

// GoBinDirs are where `go install` puts binaries: $GOBIN, else each
// $GOPATH/bin.
func GoBinDirs() []string {
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	return dirs
}

// FindGoTool finds a binary installed with `go install`: in PATH, else in
// the Go bin dirs.
func FindGoTool(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, d := range GoBinDirs() {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, true
		}
	}
	return "", false
}

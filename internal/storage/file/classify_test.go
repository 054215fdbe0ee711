package file

import (
	"errors"
	"io/fs"
	"syscall"
	"testing"

	"github.com/acode-dev/acode/internal/storage"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		errno syscall.Errno
		want  error
	}{
		{syscall.EACCES, storage.ErrAccessDenied},
		{syscall.EPERM, storage.ErrAccessDenied},
		{syscall.ENOENT, storage.ErrNotExist},
		{syscall.ENOTDIR, storage.ErrNotExist},
	}
	for _, c := range cases {
		orig := &fs.PathError{Op: "open", Path: "/data/x", Err: c.errno}
		err := classify(orig)
		if !errors.Is(err, c.want) {
			t.Errorf("classify(%v) = %v; want %v", c.errno, err, c.want)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe != orig {
			t.Errorf("classify(%v) lost the original *fs.PathError", c.errno)
		}
	}
	if err := classify(syscall.EIO); errors.Is(err, storage.ErrNotExist) || errors.Is(err, storage.ErrAccessDenied) {
		t.Errorf("classify(EIO) = %v; want unclassified", err)
	}
}

package configexport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Encode writes doc as indented JSON.
func Encode(w io.Writer, doc *Document) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode config export: %w", err)
	}
	return nil
}

// Decode reads a document and checks it whole before anything is written:
// its format, every path (relative, inside the project, one of the files
// Export takes) and every file's SHA-256.
func Decode(r io.Reader) (*Document, error) {
	var doc Document
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, &Error{Entry: -1, Msg: "not a config export document: " + err.Error()}
	}
	if doc.Format != Format {
		return nil, &Error{Entry: -1, Msg: fmt.Sprintf("format %q, want %q", doc.Format, Format)}
	}
	var errs []error
	seen := map[string]bool{}
	for i, f := range doc.Files {
		if msg := checkPath(f.Path); msg != "" {
			errs = append(errs, &Error{Entry: i, Path: f.Path, Msg: msg})
			continue
		}
		if seen[f.Path] {
			errs = append(errs, &Error{Entry: i, Path: f.Path, Msg: "appears twice"})
		}
		seen[f.Path] = true
		if digest(f.Content) != f.SHA256 {
			errs = append(errs, &Error{Entry: i, Path: f.Path, Msg: "content does not match its sha256: the document is damaged"})
		}
	}
	if len(doc.Files) == 0 {
		errs = append(errs, &Error{Entry: -1, Msg: "holds no files"})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &doc, nil
}

// checkPath says what is wrong with a file's path, "" when nothing.
func checkPath(p string) string {
	if p == "" || strings.Contains(p, "\\") || path.IsAbs(p) || path.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." {
		return "not a clean relative path inside the project"
	}
	if p == "acode.yaml" {
		return ""
	}
	parts := strings.Split(p, "/")
	if len(parts) != 3 || (parts[0] != "sources" && parts[0] != "destinations" && parts[0] != "connections") {
		return "not acode.yaml or KIND/NAME/FILE of the Octavia tree"
	}
	if base := parts[2]; base != "configuration.yaml" && !(strings.HasPrefix(base, "state_") && strings.HasSuffix(base, ".yaml")) {
		return "not a configuration.yaml or state_*.yaml file"
	}
	return ""
}

// ErrExists is returned by Import when a file it would write is already
// there and overwrite is off.
var ErrExists = errors.New("file exists")

// Import writes doc's files under dir, each through a temp file and a
// rename so that a crash never leaves half a file. Without overwrite it
// writes nothing when any file already exists. It returns the paths written.
func Import(doc *Document, dir string, overwrite bool) ([]string, error) {
	if !overwrite {
		for _, f := range doc.Files {
			if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f.Path))); err == nil {
				return nil, fmt.Errorf("import %s: %w (pass --force to replace it)", filepath.Join(dir, f.Path), ErrExists)
			}
		}
	}
	var written []string
	for _, f := range doc.Files {
		if err := writeAtomic(filepath.Join(dir, filepath.FromSlash(f.Path)), []byte(f.Content)); err != nil {
			return written, err
		}
		written = append(written, f.Path)
	}
	return written, nil
}

func writeAtomic(target string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".import-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", target, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", target, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	if err := os.Chmod(tmp.Name(), fs.FileMode(0o644)); err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	return nil
}

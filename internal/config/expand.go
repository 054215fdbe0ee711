package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// airbytePathVars are the variables destination-s3 renders itself in
// s3_path_format and file_name_pattern, and the platform in namespace_format.
// In those keys they stay literal text; every other ${VAR} is expanded.
var airbytePathVars = map[string]bool{
	"NAMESPACE": true, "STREAM_NAME": true, "YEAR": true, "MONTH": true, "DAY": true,
	"HOUR": true, "MINUTE": true, "SECOND": true, "MILLISECOND": true, "EPOCH": true,
	"UUID": true, "SOURCE_NAMESPACE": true, "TIMESTAMP": true, "FORMAT_EXTENSION": true,
	"PART_NUMBER": true, "SYNC_ID": true,
}

// pathFormatKeys are the keys whose values may hold Airbyte's path variables.
var pathFormatKeys = map[string]bool{
	"s3_path_format":    true,
	"file_name_pattern": true,
	"namespace_format":  true,
}

// anyRef is ${VAR} or ${file:PATH}, the latter: the content of a file (a mounted Kubernetes or
// Docker secret, a file a vault agent rewrites), trailing newline removed.
// A relative PATH is relative to the config dir. Secrets that rotate are
// kept in files: acode serve re-reads them on SIGHUP and before it treats
// an authentication failure as a reason to fail over.
var anyRef = regexp.MustCompile(`\$\{(file:[^}]+|[A-Za-z_][A-Za-z0-9_]*)\}`)

// expandTree replaces ${VAR} in every scalar value of the tree with the
// variable's value from lookupEnv. It runs on the parsed tree rather than the
// raw text so that comments are never expanded and line numbers stay those
// of the file. A value with an unset variable is reported and marked bad, so
// that the decoder does not report it a second time.
func (f *fileDecoder) expandTree(n *yaml.Node, path, key string) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			p := path
			if n.Kind == yaml.SequenceNode {
				p = indexPath(path, i)
			}
			f.expandTree(c, p, key)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			f.expandTree(n.Content[i+1], f.childPath(path, k), k)
		}
	case yaml.ScalarNode:
		f.expandScalar(n, path, key)
	}
}

func (f *fileDecoder) expandScalar(n *yaml.Node, path, key string) {
	if !strings.Contains(n.Value, "${") {
		return
	}
	keepAirbyte := pathFormatKeys[key]
	var missing []string
	bad := false
	// One pass, so that a value read from a variable or a file is never
	// expanded again.
	n.Value = anyRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
		name := ref[2 : len(ref)-1]
		if p, isFile := strings.CutPrefix(name, "file:"); isFile {
			if keepAirbyte {
				return ref // files are not read into paths
			}
			v, err := f.readRef(p)
			if err != nil {
				f.errorAt(n, path, "%s: %v", ref, err)
				bad = true
			}
			return v
		}
		if keepAirbyte && airbytePathVars[name] {
			return ref
		}
		v, ok := f.lookupEnv(name)
		if !ok {
			missing = append(missing, name)
			return ""
		}
		return v
	})
	for _, name := range missing {
		f.errorAt(n, path, "environment variable %s is not set", name)
	}
	if bad || len(missing) > 0 {
		f.bad[n] = true
	}
}

// readRef reads the file a ${file:PATH} reference names.
func (f *fileDecoder) readRef(p string) (string, error) {
	p = strings.TrimSpace(p)
	if !filepath.IsAbs(p) {
		p = filepath.Join(f.dir, p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("cannot read %s: %w", p, err)
	}
	return strings.TrimRight(string(data), "\r\n"), nil
}

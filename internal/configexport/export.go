package configexport

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acode-dev/acode/internal/config"
)

// Export reads the project's files as written (nothing expanded) and builds
// its document. Only configuration.yaml and state_*.yaml of the Octavia
// tree and acode.yaml are taken: key or certificate files beside them are
// not part of a backup that may be stored with less care than they are.
func Export(p *config.Project, now time.Time) (*Document, error) {
	paths, err := projectFiles(p.Dir)
	if err != nil {
		return nil, err
	}
	doc := &Document{Format: Format, ExportedAt: now.UTC(), Files: []File{}, Variables: []string{}}
	vars := map[string]bool{}
	for _, rel := range paths {
		data, err := os.ReadFile(filepath.Join(p.Dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", rel, err)
		}
		if !utf8.Valid(data) {
			return nil, fmt.Errorf("export %s: not UTF-8 text", rel)
		}
		content, redactions, err := redact(rel, data)
		if err != nil {
			return nil, err
		}
		doc.Redacted = append(doc.Redacted, redactions...)
		for _, name := range referencedVars(content) {
			vars[name] = true
		}
		doc.Files = append(doc.Files, File{Path: rel, Content: content, SHA256: digest(content)})
	}
	for name := range vars {
		doc.Variables = append(doc.Variables, name)
	}
	slices.Sort(doc.Variables)
	doc.Connections = connections(p)
	return doc, nil
}

// projectFiles lists the files a backup holds, '/'-separated and sorted.
func projectFiles(dir string) ([]string, error) {
	var out []string
	if _, err := os.Stat(filepath.Join(dir, config.SettingsFile)); err == nil {
		out = append(out, config.SettingsFile)
	}
	for _, kind := range []string{"sources", "destinations", "connections"} {
		for _, pattern := range []string{"configuration.yaml", "state_*.yaml"} {
			files, err := filepath.Glob(filepath.Join(dir, kind, "*", pattern))
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", kind, err)
			}
			for _, f := range files {
				rel, err := filepath.Rel(dir, f)
				if err != nil {
					return nil, fmt.Errorf("list %s: %w", kind, err)
				}
				out = append(out, filepath.ToSlash(rel))
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func connections(p *config.Project) []Connection {
	out := []Connection{}
	for _, name := range p.ConnectionNames() {
		c := p.Connections[name]
		e := Connection{Name: name, ID: c.ID}
		if c.Source != nil {
			e.Source = c.Source.ResourceName
		}
		if c.Destination != nil {
			e.Destination = c.Destination.ResourceName
		}
		out = append(out, e)
	}
	return out
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// airbyteVars are destination-s3's path variables, rendered per sync, not
// taken from the environment.
var airbyteVars = map[string]bool{
	"NAMESPACE": true, "STREAM_NAME": true, "YEAR": true, "MONTH": true, "DAY": true,
	"HOUR": true, "MINUTE": true, "SECOND": true, "MILLISECOND": true, "EPOCH": true,
	"UUID": true, "SOURCE_NAMESPACE": true, "TIMESTAMP": true, "FORMAT_EXTENSION": true,
	"PART_NUMBER": true, "SYNC_ID": true,
}

// referencedVars lists the environment variables content references,
// outside comments. A coarse scan is enough: the list is advice for the
// person restoring, and config.Load names any variable still missing.
func referencedVars(content string) []string {
	var out []string
	for _, line := range strings.Split(content, "\n") {
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, m := range varRef.FindAllStringSubmatch(line, -1) {
			if !airbyteVars[m[1]] {
				out = append(out, m[1])
			}
		}
	}
	return out
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

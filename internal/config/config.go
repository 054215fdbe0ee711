// Package config loads an acode project: an Octavia directory with the
// Airbyte source, destination and connection files exactly as Airbyte's
// octavia CLI keeps them, plus acode's own settings in acode.yaml.
//
// Loading is strict where a mistake would cost data and lenient where Airbyte
// is: ${VAR} references must be set, values must have the right type, and
// every problem is reported with its file, line and key, all at once. Fields
// of the Airbyte files that acode does not use are accepted; unknown ones are
// warnings. Unknown keys in acode.yaml are errors, since a typo there would
// silently fall back to a default.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// SettingsFile is the name of acode's own settings file in the config dir.
const SettingsFile = "acode.yaml"

// Project is a loaded configuration directory.
type Project struct {
	Dir          string // absolute
	Settings     Settings
	Sources      map[string]*Source      // by resource_name
	Destinations map[string]*Destination // by resource_name
	Connections  map[string]*Connection  // by resource_name
	Warnings     []string                // "file:line: key: unknown key, ignored"

	lookupEnv func(string) (string, bool) // what Load was given, for ReloadSecrets
}

// Connection returns the connection whose resource_name or ID is name. Both
// are accepted because Airflow DAGs pass either. The error lists the known
// names so that a typo is easy to fix.
func (p *Project) Connection(name string) (*Connection, error) {
	if c, ok := p.Connections[name]; ok {
		return c, nil
	}
	for _, c := range p.Connections {
		if c.ID == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: %q (known: %s)", ErrUnknownConnection, name, strings.Join(p.ConnectionNames(), ", "))
}

// ConnectionNames returns the connections' resource names, sorted.
func (p *Project) ConnectionNames() []string {
	names := make([]string, 0, len(p.Connections))
	for n := range p.Connections {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ErrUnknownConnection is returned by Project.Connection for a name that is
// not in the project.
var ErrUnknownConnection = errors.New("unknown connection")

// Load reads the project in dir. lookupEnv resolves ${VAR} references; pass
// os.LookupEnv in production. On failure the error joins one *Error per
// problem found (see Errors).
func Load(dir string, lookupEnv func(string) (string, bool)) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("config dir %s: %w", dir, err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, &Error{File: dir, Msg: "config dir does not exist or is not a directory"}
	}
	l := &loader{
		dir:          abs,
		lookupEnv:    lookupEnv,
		sourceFiles:  map[string]*Source{},
		destFiles:    map[string]*Destination{},
		sources:      map[string]*Source{},
		destinations: map[string]*Destination{},
		connections:  map[string]*Connection{},
	}
	settings := l.loadSettings()
	for _, file := range l.glob("sources") {
		l.loadSource(file)
	}
	for _, file := range l.glob("destinations") {
		l.loadDestination(file)
	}
	conns := l.glob("connections")
	if len(conns) == 0 {
		l.c.add(".", 0, "", "no connections/*/configuration.yaml found in %s: is this an Octavia project directory?", abs)
	}
	for _, file := range conns {
		l.loadConnection(file)
	}
	l.checkColumnOverrides(settings.Sync.Columns)
	if err := l.c.err(); err != nil {
		return nil, err
	}
	p := &Project{
		Dir:          abs,
		Settings:     settings,
		Sources:      l.sources,
		Destinations: l.destinations,
		Connections:  l.connections,
		Warnings:     l.c.warnings,
		lookupEnv:    lookupEnv,
	}
	for _, s := range p.Sources {
		s.project = p
	}
	return p, nil
}

// loader holds the state of one Load.
type loader struct {
	dir       string
	lookupEnv func(string) (string, bool)
	c         collector

	sourceFiles  map[string]*Source      // by absolute file path; nil when unusable
	destFiles    map[string]*Destination // by absolute file path; nil when unusable
	sources      map[string]*Source
	destinations map[string]*Destination
	connections  map[string]*Connection
}

// glob lists kind/*/configuration.yaml, sorted.
func (l *loader) glob(kind string) []string {
	files, _ := filepath.Glob(filepath.Join(l.dir, kind, "*", "configuration.yaml")) // the pattern is valid
	slices.Sort(files)
	return files
}

// resolve makes a path from the configuration absolute, relative to the
// config dir.
func (l *loader) resolve(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(l.dir, p)
}

// rel names a file for messages: relative to the config dir when inside it.
func (l *loader) rel(file string) string {
	if r, err := filepath.Rel(l.dir, file); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return file
}

// open reads and parses one file; nil when it cannot be used (reported).
func (l *loader) open(file string, strict bool) (*fileDecoder, *mapNode) {
	f := newFileDecoder(&l.c, l.rel(file), l.lookupEnv)
	f.dir = l.dir
	f.strict = strict
	f.octavia = !strict
	data, err := os.ReadFile(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		l.c.add(f.file, 0, "", "read: %v", err)
		return nil, nil
	}
	root := f.parse(data)
	if root == nil {
		return nil, nil
	}
	return f, root
}

func (l *loader) loadSource(file string) *Source {
	f, root := l.open(file, false)
	if root == nil {
		l.sourceFiles[file] = nil // reported once, not again for each connection
		return nil
	}
	s := l.decodeSource(f, root, file)
	l.sourceFiles[file] = s
	if s.ResourceName != "" {
		if prev, dup := l.sources[s.ResourceName]; dup {
			root.errorf("resource_name", "%q is also the name of %s", s.ResourceName, l.rel(prev.File))
		} else {
			l.sources[s.ResourceName] = s
		}
	}
	return s
}

func (l *loader) loadDestination(file string) *Destination {
	f, root := l.open(file, false)
	if root == nil {
		l.destFiles[file] = nil // reported once, not again for each connection
		return nil
	}
	d := l.decodeDestination(f, root, file)
	l.destFiles[file] = d
	if d.ResourceName != "" {
		if prev, dup := l.destinations[d.ResourceName]; dup {
			root.errorf("resource_name", "%q is also the name of %s", d.ResourceName, l.rel(prev.File))
		} else {
			l.destinations[d.ResourceName] = d
		}
	}
	return d
}

func (l *loader) loadConnection(file string) {
	f, root := l.open(file, false)
	if root == nil {
		return
	}
	c := l.decodeConnection(f, root, file)
	if c.ResourceName == "" {
		return
	}
	if prev, dup := l.connections[c.ResourceName]; dup {
		root.errorf("resource_name", "%q is also the name of %s", c.ResourceName, l.rel(prev.File))
		return
	}
	l.connections[c.ResourceName] = c
}

// octaviaHeader reads the keys every Octavia file has at its top.
func (l *loader) octaviaHeader(root *mapNode, kind string, name *string) {
	root.required("resource_name", name)
	var t string
	if root.str("definition_type", &t) && t != kind && !root.wasBad("definition_type") {
		root.errorf("definition_type", "must be %q in a %s file, got %q", kind, kind, t)
	}
	root.ignore("definition_id", "definition_image", "definition_version")
}

// fileExists reports whether path is an existing regular file.
func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/acode-dev/acode/internal/failure"
)

// fileDecoder reads one YAML file into typed values, reporting every problem
// with the file, line and key path to the load's collector instead of
// stopping at the first.
type fileDecoder struct {
	c         *collector
	file      string // for messages: relative to the config dir, slash-separated
	lookupEnv func(string) (string, bool)
	dir       string              // the config dir: ${file:PATH} is relative to it
	strict    bool                // unknown keys are errors (acode.yaml) instead of warnings (Octavia files)
	octavia   bool                // keys under the top-level "configuration" are named without that prefix
	bad       map[*yaml.Node]bool // values already reported (unset variable)
}

func newFileDecoder(c *collector, file string, lookupEnv func(string) (string, bool)) *fileDecoder {
	return &fileDecoder{c: c, file: file, lookupEnv: lookupEnv, bad: map[*yaml.Node]bool{}}
}

func (f *fileDecoder) errorAt(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	f.c.add(f.file, line, key, format, args...)
}

// parse parses data, expands ${VAR} references and returns the top-level
// mapping, or nil when the file cannot be used at all (the reason is
// reported).
func (f *fileDecoder) parse(data []byte) *mapNode {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		f.c.add(f.file, 0, "", "invalid YAML: %v", err)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		f.c.add(f.file, 0, "", "file is empty")
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		f.errorAt(root, "", "must be a mapping of keys to values")
		return nil
	}
	f.expandTree(root, "", "")
	return f.newMap(root, "", root.Line)
}

// childPath names key under parent. In Octavia files the keys under the
// top-level "configuration" are named as the connector's spec names them.
func (f *fileDecoder) childPath(parent, key string) string {
	if f.octavia && parent == "" && key == "configuration" {
		return ""
	}
	return joinPath(parent, key)
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

// mapNode is one YAML mapping being decoded. Each key read is marked used;
// finish reports the keys nobody asked for.
type mapNode struct {
	f       *fileDecoder
	node    *yaml.Node
	path    string
	keyLine int // line of the key that holds this mapping: where "missing key" points
	used    map[string]bool
}

func (f *fileDecoder) newMap(n *yaml.Node, path string, keyLine int) *mapNode {
	m := &mapNode{f: f, node: n, path: path, keyLine: keyLine, used: map[string]bool{}}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if first, dup := seen[k.Value]; dup {
			f.errorAt(k, f.childPath(path, k.Value), "key repeated (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
	}
	return m
}

// entry returns the key and value nodes of key, marking it used.
func (m *mapNode) entry(key string) (k, v *yaml.Node) {
	m.used[key] = true
	for i := 0; i+1 < len(m.node.Content); i += 2 {
		if m.node.Content[i].Value == key {
			v := m.node.Content[i+1]
			if v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			return m.node.Content[i], v
		}
	}
	return nil, nil
}

func (m *mapNode) key(key string) string { return m.f.childPath(m.path, key) }

// has reports whether key is present with a non-null value.
func (m *mapNode) has(key string) bool {
	_, v := m.entry(key)
	return v != nil && v.Tag != "!!null"
}

// lineOf is the line of key's value, or of this mapping's key when absent.
func (m *mapNode) lineOf(key string) int {
	if k, _ := m.entry(key); k != nil {
		return k.Line
	}
	return m.keyLine
}

func (m *mapNode) errorf(key, format string, args ...any) {
	m.f.c.add(m.f.file, m.lineOf(key), m.key(key), format, args...)
}

func (m *mapNode) missing(key string) {
	m.f.c.add(m.f.file, m.lineOf(key), m.key(key), "required key is missing or empty")
}

// scalar returns key's scalar value node. ok is false when the key is
// absent, null, or already reported; a non-scalar value is reported here.
func (m *mapNode) scalar(key string) (v *yaml.Node, present, ok bool) {
	_, v = m.entry(key)
	if v == nil || v.Tag == "!!null" {
		return nil, false, false
	}
	if m.f.bad[v] {
		return nil, true, false
	}
	if v.Kind != yaml.ScalarNode {
		m.f.errorAt(v, m.key(key), "must be a single value, not a %s", kindName(v))
		m.f.bad[v] = true
		return nil, true, false
	}
	return v, true, true
}

// str sets *dst when key holds a value and reports whether it was present.
func (m *mapNode) str(key string, dst *string) bool {
	v, present, ok := m.scalar(key)
	if ok {
		*dst = v.Value
	}
	return present
}

// required is str for a key that must be present and not empty.
func (m *mapNode) required(key string, dst *string) {
	if !m.str(key, dst) || (*dst == "" && !m.wasBad(key)) {
		m.missing(key)
	}
}

func (m *mapNode) wasBad(key string) bool {
	_, v := m.entry(key)
	return v != nil && m.f.bad[v]
}

// secret is str for a Secret; its value never appears in messages.
func (m *mapNode) secret(key string, dst *Secret) bool {
	var s string
	present := m.str(key, &s)
	*dst = Secret(s)
	return present
}

// integer sets *dst from key, which must be a whole number in [lo, hi].
func (m *mapNode) integer(key string, dst *int, lo, hi int) bool {
	v, present, ok := m.scalar(key)
	if !ok {
		return present
	}
	n, err := strconv.Atoi(strings.TrimSpace(v.Value))
	switch {
	case err != nil:
		m.f.errorAt(v, m.key(key), "must be a whole number, got %q", v.Value)
	case n < lo || n > hi:
		m.f.errorAt(v, m.key(key), "must be between %d and %d, got %d", lo, hi, n)
	default:
		*dst = n
	}
	return true
}

// boolean sets *dst from key, which must be true or false.
func (m *mapNode) boolean(key string, dst *bool) bool {
	v, present, ok := m.scalar(key)
	if !ok {
		return present
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v.Value))
	if err != nil {
		m.f.errorAt(v, m.key(key), "must be true or false, got %q", v.Value)
		return true
	}
	*dst = b
	return true
}

// duration sets *dst from key, a Go duration string such as "30s" or "10m",
// which must be positive.
func (m *mapNode) duration(key string, dst *time.Duration) bool {
	v, present, ok := m.scalar(key)
	if !ok {
		return present
	}
	d, err := time.ParseDuration(strings.TrimSpace(v.Value))
	switch {
	case err != nil:
		m.f.errorAt(v, m.key(key), "must be a duration such as 30s, 5m or 1h, got %q", v.Value)
	case d <= 0:
		m.f.errorAt(v, m.key(key), "must be positive, got %s", v.Value)
	default:
		*dst = d
	}
	return true
}

// enum sets *dst from key, whose value must equal one of allowed ignoring
// case; *dst gets the spelling from allowed.
func (m *mapNode) enum(key string, dst *string, allowed ...string) bool {
	v, present, ok := m.scalar(key)
	if !ok {
		return present
	}
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSpace(v.Value), a) {
			*dst = a
			return true
		}
	}
	m.f.errorAt(v, m.key(key), "must be one of %s, got %q", strings.Join(allowed, ", "), v.Value)
	return true
}

// severity reads a quality rule's severity: a failing error rule
// quarantines the stream's partition; a failing warning lowers the score
// and is reported.
func (m *mapNode) severity(key string, dst *failure.Severity) {
	s := string(*dst)
	m.enum(key, &s, string(failure.Warning), string(failure.Error))
	*dst = failure.Severity(s)
}

// child returns key's mapping, or nil when absent or not a mapping (reported).
func (m *mapNode) child(key string) *mapNode {
	k, v := m.entry(key)
	if v == nil || v.Tag == "!!null" || m.f.bad[v] {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		m.f.errorAt(v, m.key(key), "must be a mapping of keys to values, not a %s", kindName(v))
		return nil
	}
	return m.f.newMap(v, m.key(key), k.Line)
}

// seq returns key's sequence items, or nil when absent or not a list
// (reported).
func (m *mapNode) seq(key string) []*yaml.Node {
	_, v := m.entry(key)
	if v == nil || v.Tag == "!!null" || m.f.bad[v] {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		m.f.errorAt(v, m.key(key), "must be a list, not a %s", kindName(v))
		return nil
	}
	items := make([]*yaml.Node, len(v.Content))
	for i, it := range v.Content {
		if it.Kind == yaml.AliasNode && it.Alias != nil {
			it = it.Alias
		}
		items[i] = it
	}
	return items
}

// strings returns key's list of text values.
func (m *mapNode) strings(key string) []string {
	var out []string
	for i, it := range m.seq(key) {
		if it.Kind != yaml.ScalarNode {
			m.f.errorAt(it, indexPath(m.key(key), i), "must be a text value, not a %s", kindName(it))
			continue
		}
		out = append(out, it.Value)
	}
	return out
}

// ignore marks keys that acode accepts and does not use.
func (m *mapNode) ignore(keys ...string) {
	for _, k := range keys {
		m.used[k] = true
	}
}

// finish reports every key that was never read: an error in strict files, a
// warning in Octavia files (they carry fields of Airbyte versions we do not
// know, and refusing them would break a working project).
func (m *mapNode) finish() {
	for i := 0; i+1 < len(m.node.Content); i += 2 {
		k := m.node.Content[i]
		if m.used[k.Value] {
			continue
		}
		if m.f.strict {
			m.f.errorAt(k, m.key(k.Value), "unknown key")
		} else {
			m.f.c.warn(m.f.file, k.Line, m.key(k.Value), "unknown key, ignored")
		}
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	default:
		return "single value"
	}
}

package configexport

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// reference is a value that is exactly one ${VAR} or ${file:/path}
// reference: what a secret should be written as.
var reference = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*|file:[^}]+)\}$`)

// pemKeys hold PEM text or the path of a PEM file; a path is not a secret.
var pemKeys = map[string]bool{"client_key": true, "ssh_key": true, "private_key": true}

// isSecretKey says whether a key holds a secret by its name: passwords,
// access and secret keys, tokens, private keys. Keys that name where a
// secret is (*_env, *_file) and Airbyte's primary keys are not secrets.
func isSecretKey(key string) bool {
	k := strings.ToLower(key)
	switch {
	case strings.HasSuffix(k, "_env"), strings.HasSuffix(k, "_file"), strings.Contains(k, "primary_key"):
		return false
	case k == "access_key_id", k == "token", strings.HasSuffix(k, "_token"), strings.HasSuffix(k, "_key"):
		return true
	}
	return strings.Contains(k, "password") || strings.Contains(k, "secret")
}

// redact returns data with every literal secret replaced by a reference,
// and the list of replacements. A file without literal secrets is returned
// unchanged, byte for byte.
func redact(rel string, data []byte) (string, []Redaction, error) {
	if !strings.HasSuffix(rel, ".yaml") {
		return string(data), nil, nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return "", nil, fmt.Errorf("export %s: %w", rel, err)
	}
	var found []*secretValue
	collectSecrets(&root, "", &found)
	if len(found) == 0 {
		return string(data), nil, nil
	}
	var out []Redaction
	for _, s := range found {
		s.variable = variableName(rel, s.path)
		out = append(out, Redaction{File: rel, Line: s.node.Line, Key: s.path, Variable: s.variable})
	}
	if text, ok := substitute(data, found); ok {
		return text, out, nil
	}
	// A block or multi-line scalar: re-encode the tree (comments stay,
	// layout may change) rather than guess where the value ends.
	for _, s := range found {
		s.node.Value, s.node.Style = "${"+s.variable+"}", 0
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return "", nil, fmt.Errorf("export %s: re-encode: %w", rel, err)
	}
	return buf.String(), out, nil
}

// secretValue is a literal secret found in a file.
type secretValue struct {
	node     *yaml.Node
	path     string // dotted key path, e.g. configuration.password
	variable string // the reference's variable
}

func collectSecrets(n *yaml.Node, prefix string, out *[]*secretValue) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			collectSecrets(c, prefix, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i].Value, n.Content[i+1]
			p := key
			if prefix != "" {
				p = prefix + "." + key
			}
			if val.Kind == yaml.ScalarNode && isSecretKey(key) && isLiteralSecret(key, val.Value) {
				*out = append(*out, &secretValue{node: val, path: p})
				continue
			}
			collectSecrets(val, p, out)
		}
	}
}

func isLiteralSecret(key, v string) bool {
	v = strings.TrimSpace(v)
	if v == "" || reference.MatchString(v) {
		return false
	}
	return !pemKeys[strings.ToLower(key)] || strings.Contains(v, "-----BEGIN")
}

// variableName names the reference of a redacted secret after its
// resource directory and key: sources/source_mysql_acode/configuration.yaml
// and configuration.password give SOURCE_MYSQL_ACODE_PASSWORD.
func variableName(rel, keyPath string) string {
	dir := path.Base(path.Dir(rel))
	if dir == "." {
		dir = "acode"
	}
	name := strings.ToUpper(dir + "_" + strings.TrimPrefix(keyPath, "configuration."))
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
}

// substitute replaces each secret's text in data, keeping every other byte.
// It handles single-line plain and quoted scalars; ok is false otherwise.
func substitute(data []byte, found []*secretValue) (string, bool) {
	lines := strings.SplitAfter(string(data), "\n")
	// Last first, so that an earlier replacement on the same line (a flow
	// mapping) does not move a later one's column.
	for i := len(found) - 1; i >= 0; i-- {
		s := found[i]
		n := s.node
		if n.Line < 1 || n.Line > len(lines) || n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			return "", false
		}
		line := lines[n.Line-1]
		start := byteOffset(line, n.Column-1)
		if start < 0 {
			return "", false
		}
		end := scalarEnd(line, start, n)
		if end < 0 {
			return "", false
		}
		lines[n.Line-1] = line[:start] + "${" + s.variable + "}" + line[end:]
	}
	return strings.Join(lines, ""), true
}

// byteOffset turns a column counted in characters into a byte offset.
func byteOffset(line string, col int) int {
	i := 0
	for off := range line {
		if i == col {
			return off
		}
		i++
	}
	return -1
}

// scalarEnd finds where the scalar starting at start ends on its line, or -1.
func scalarEnd(line string, start int, n *yaml.Node) int {
	rest := line[start:]
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := 1; i < len(rest); i++ {
			switch rest[i] {
			case '\\':
				i++
			case '"':
				return start + i + 1
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := 1; i < len(rest); i++ {
			if rest[i] == '\'' {
				if i+1 < len(rest) && rest[i+1] == '\'' {
					i++
					continue
				}
				return start + i + 1
			}
		}
	case strings.HasPrefix(rest, n.Value):
		return start + len(n.Value)
	}
	return -1
}

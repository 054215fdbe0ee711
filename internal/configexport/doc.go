// Package configexport backs up an acode project as one JSON document and
// writes a project tree back from it: the seed's monthly "octavia list
// connections > acode-connections-YYYYMM.json; aws s3 cp" done so that the
// backup can actually rebuild the project.
//
// The document holds the files as text, exactly as written (so a restore is
// byte for byte, comments included), never expanded: a secret written as a
// ${VAR} reference stays that reference. A secret written literally in a
// file is replaced by a ${VAR} reference named after its file and key, and
// the document lists those variables, so the backup never holds a password
// and the restored tree names what must be set before it loads.
package configexport

import (
	"fmt"
	"time"
)

// Format identifies the document's shape; Decode refuses any other.
const Format = "acode-config-export/1"

// Document is a project as one JSON document.
type Document struct {
	Format     string    `json:"format"`
	ExportedAt time.Time `json:"exported_at"`
	// Files are acode.yaml and the Octavia tree's configuration.yaml and
	// state_*.yaml files, by '/'-separated path relative to the project,
	// sorted.
	Files []File `json:"files"`
	// Connections are the connections' Airbyte ids (what Airflow's DAGs
	// pass) with the source and destination each one joins.
	Connections []Connection `json:"connections"`
	// Variables are the environment variables the files reference: set them
	// before loading a tree imported from this document.
	Variables []string `json:"variables"`
	// Redacted lists the literal secrets replaced by a reference.
	Redacted []Redaction `json:"redacted,omitempty"`
}

// File is one file of the project.
type File struct {
	Path    string `json:"path"`
	Content string `json:"content"`
	// SHA256 is the hex digest of Content, checked on import.
	SHA256 string `json:"sha256"`
}

// Connection is one connection's identity.
type Connection struct {
	Name        string `json:"resource_name"`
	ID          string `json:"connection_id"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
}

// Redaction says which literal secret was replaced by which reference.
type Redaction struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Key      string `json:"key"`
	Variable string `json:"variable"`
}

// Error is a problem with one entry of a document, named by its index and
// path so that a damaged backup says where it is damaged.
type Error struct {
	Entry int    // index in Files, -1 for the document itself
	Path  string // the entry's path, when known
	Msg   string
}

func (e *Error) Error() string {
	if e.Entry < 0 {
		return "config export: " + e.Msg
	}
	return fmt.Sprintf("config export: files[%d] %q: %s", e.Entry, e.Path, e.Msg)
}

// ObjectName is the backup's file or object name for the month of t, the
// seed's acode-connections-YYYYMM.json.
func ObjectName(t time.Time) string {
	return "acode-connections-" + t.UTC().Format("200601") + ".json"
}

// Package parquet turns rows read from MySQL (text protocol values) into
// Parquet files. It owns the type mapping, in two modes: "exact" keeps every
// MySQL type's meaning (DECIMAL stays DECIMAL, DATE stays DATE, unsigned BIGINT
// does not overflow), "airbyte" reproduces destination-s3 0.3.23's layout for
// tables whose existing partitions already use it.
package parquet

import (
	"bytes"
	"fmt"
	"strings"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/acode-dev/acode/internal/schema"
)

// Mode selects the type mapping.
type Mode string

const (
	// ModeExact maps each MySQL type to the Parquet type that keeps its value
	// and meaning (the default).
	ModeExact Mode = "exact"
	// ModeAirbyte mimics destination-s3 0.3.23: integers INT64, numbers DOUBLE,
	// dates and timestamps as {member0, member1} groups, binaries base64.
	ModeAirbyte Mode = "airbyte"
)

// Names of Airbyte's metadata columns, written in both modes.
const (
	ColumnABID                 = "_airbyte_ab_id"
	ColumnEmittedAt            = "_airbyte_emitted_at"
	ColumnAdditionalProperties = "_airbyte_additional_properties"
)

// Field describes one leaf column of the file, in the words a manifest or
// `acode check` shows: "INT64" / "DECIMAL(15,2)" / "OPTIONAL". Nested leaves
// (airbyte mode's date groups) have dotted names such as "dt.member0".
type Field struct {
	Name       string `json:"name"`
	Physical   string `json:"physical"`
	Logical    string `json:"logical,omitempty"`
	Repetition string `json:"repetition"`
}

// Schema is a table's Parquet schema plus the plan for converting each
// column's text values. Build it once per stream; it is immutable and safe to
// share between writers.
type Schema struct {
	table     schema.Table
	mode      Mode
	root      *pq.Schema // string columns dictionary-encoded
	rootPlain *pq.Schema // every column PLAIN
	layout
	footerSchema
}

// layout is where each value of a row goes among the file's leaf columns.
type layout struct {
	columns []column // one per table column, in table order
	abID    int      // leaf index of _airbyte_ab_id
	emitted int      // leaf index of _airbyte_emitted_at
	props   int      // first leaf of _airbyte_additional_properties, -1 when absent
	leaves  int
}

// NewSchema maps a table to its Parquet schema in the given mode ("" means
// exact), with overrides replacing the mapping of single columns. A column
// whose type the mapping does not know is an error naming the column; an
// override that does not apply is an *OverrideError.
func NewSchema(t schema.Table, mode Mode, overrides ...Override) (*Schema, error) {
	if mode == "" {
		mode = ModeExact
	}
	if mode != ModeExact && mode != ModeAirbyte {
		return nil, fmt.Errorf("%w: %q (want %q or %q)", ErrUnknownMode, mode, ModeExact, ModeAirbyte)
	}
	ov, err := overridesFor(t, overrides)
	if err != nil {
		return nil, err
	}
	s := &Schema{table: t, mode: mode}
	if s.root, s.layout, err = build(t, mode, ov, true); err != nil {
		return nil, err
	}
	if s.rootPlain, _, err = build(t, mode, ov, false); err != nil {
		return nil, err
	}
	if s.footerSchema, err = newFooterSchema(s.root); err != nil {
		return nil, err
	}
	return s, nil
}

func build(t schema.Table, mode Mode, ov map[int]ColumnType, dict bool) (*pq.Schema, layout, error) {
	l := layout{props: -1}
	var root group
	add := func(name string, n pq.Node, leaves int) int {
		first := l.leaves
		root = append(root, &namedField{Node: n, name: name})
		l.leaves += leaves
		return first
	}
	meta := func() {
		l.abID = add(ColumnABID, pq.Required(pq.Encoded(pq.String(), &pq.Plain)), 1)
		l.emitted = add(ColumnEmittedAt, pq.Required(pq.Timestamp(pq.Millisecond)), 1)
	}
	if mode == ModeAirbyte {
		meta() // Airbyte's Avro schema puts its fields first
	}
	seen := map[string]bool{ColumnABID: true, ColumnEmittedAt: true, ColumnAdditionalProperties: true}
	for i, c := range t.Columns {
		if seen[strings.ToLower(c.Name)] {
			return nil, l, fmt.Errorf("column %s: name clashes with another column or an Airbyte metadata column", c.Name)
		}
		seen[strings.ToLower(c.Name)] = true
		var (
			col column
			n   pq.Node
			err error
		)
		if mode == ModeAirbyte {
			col, n, err = airbyteColumn(c, dict, ov[i])
		} else {
			col, n, err = exactColumn(c, dict, ov[i])
		}
		if err != nil {
			return nil, l, err
		}
		col.name, col.index = c.Name, i
		col.leaf = add(c.Name, n, col.kind.leaves())
		l.columns = append(l.columns, col)
	}
	if mode == ModeExact {
		meta()
	} else {
		plain := func() pq.Node { return pq.Encoded(pq.String(), &pq.Plain) }
		props := pq.Optional(pq.Map(plain(), pq.Optional(plain())))
		l.props = add(ColumnAdditionalProperties, props, 2)
	}
	s := pq.NewSchema(t.Name, root)
	if got := len(s.Columns()); got != l.leaves {
		return nil, l, fmt.Errorf("schema %s: %d leaf columns, planned %d", t.Name, got, l.leaves)
	}
	return s, l, nil
}

// Mode returns the mapping the schema was built with.
func (s *Schema) Mode() Mode { return s.mode }

// Table returns the source table the schema describes.
func (s *Schema) Table() schema.Table { return s.table }

// Fields lists the file's leaf columns in file order, for manifests and
// `acode check`.
func (s *Schema) Fields() []Field {
	var out []Field
	for _, f := range s.root.Fields() {
		appendFields(&out, "", f)
	}
	return out
}

// String renders the schema in Parquet's message syntax.
func (s *Schema) String() string { return s.root.String() }

func appendFields(out *[]Field, prefix string, f pq.Field) {
	name := prefix + f.Name()
	if !f.Leaf() {
		for _, child := range f.Fields() {
			appendFields(out, name+".", child)
		}
		return
	}
	t := f.Type()
	field := Field{Name: name, Repetition: repetition(f)}
	if p := t.PhysicalType(); p != nil {
		field.Physical = p.String()
		if *p == format.FixedLenByteArray {
			field.Physical = fmt.Sprintf("%s(%d)", p, t.Length())
		}
	}
	if l := t.LogicalType(); l != nil {
		field.Logical = l.String()
	}
	*out = append(*out, field)
}

func repetition(n pq.Node) string {
	switch {
	case n.Repeated():
		return "REPEATED"
	case n.Optional():
		return "OPTIONAL"
	default:
		return "REQUIRED"
	}
}

// footerSchema is what every file's footer repeats: the schema elements
// and column orders, which parquet-go derives from the schema (the format
// knowledge stays there), and the leaves the column writers fill.
type footerSchema struct {
	elements []format.SchemaElement
	orders   []format.ColumnOrder
	leafInfo []leafInfo
}

// newFooterSchema takes the footer's schema from an empty file parquet-go
// writes for root, once per Schema.
func newFooterSchema(root *pq.Schema) (footerSchema, error) {
	var buf bytes.Buffer
	pw := pq.NewWriter(&buf, root)
	if err := pw.Close(); err != nil {
		return footerSchema{}, fmt.Errorf("schema %s: %w", root.Name(), err)
	}
	f, err := pq.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return footerSchema{}, fmt.Errorf("schema %s: %w", root.Name(), err)
	}
	leaves, err := leavesOf(root)
	if err != nil {
		return footerSchema{}, err
	}
	md := f.Metadata()
	return footerSchema{elements: md.Schema, orders: md.ColumnOrders, leafInfo: leaves}, nil
}

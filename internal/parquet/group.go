package parquet

import (
	"reflect"
	"strings"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// group is a Parquet group whose fields keep the order they were added in.
// parquet-go's Group is a map and sorts its fields by name, which would put
// a table's columns in alphabetical order instead of the table's.
type group []pq.Field

var _ pq.Node = group(nil)

func (g group) ID() int                     { return 0 }
func (g group) Type() pq.Type               { return pq.Group{}.Type() }
func (g group) Optional() bool              { return false }
func (g group) Repeated() bool              { return false }
func (g group) Required() bool              { return true }
func (g group) Leaf() bool                  { return false }
func (g group) Fields() []pq.Field          { return g }
func (g group) Encoding() encoding.Encoding { return nil }
func (g group) Compression() compress.Codec { return nil }
func (g group) GoType() reflect.Type        { return reflect.TypeFor[map[string]any]() }
func (g group) String() string {
	var b strings.Builder
	b.WriteString("group {")
	for i, f := range g {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" " + f.Name() + ": " + f.String())
	}
	b.WriteString(" }")
	return b.String()
}

// namedField attaches a name to a node inside a group.
type namedField struct {
	pq.Node
	name string
}

func (f *namedField) Name() string { return f.name }

// Value is only used by parquet-go's reflection paths, which this package
// never takes: rows are built as column values directly.
func (f *namedField) Value(reflect.Value) reflect.Value { return reflect.Value{} }

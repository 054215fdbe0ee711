package syncer

import (
	"errors"
	"maps"
	"strings"
	"sync"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/failure"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/schema"
)

// parquetSchema maps the discovered table to its Parquet schema in the
// project's types mode, with the stream's sync.columns overrides. An
// override the table cannot take (no such column, a type that does not
// fit) is a configuration error at the entry's line in acode.yaml.
func (r *streamRun) parquetSchema(table schema.Table) (*parquet.Schema, error) {
	sync := r.syncer.Project.Settings.Sync
	entries := sync.ColumnOverrides(r.stream.Name)
	overrides := make([]parquet.Override, len(entries))
	for i, o := range entries {
		overrides[i] = parquet.Override{Column: o.Column, Type: parquet.ColumnType(o.Type)}
	}
	s, err := parquet.NewSchema(table, parquet.Mode(sync.Types), overrides...)
	var oe *parquet.OverrideError
	if errors.As(err, &oe) {
		for _, o := range entries {
			if strings.EqualFold(o.Column, oe.Column) {
				return nil, &config.Error{File: config.SettingsFile, Line: o.Line, Key: o.Key(), Msg: oe.Error()}
			}
		}
		return nil, &config.Error{File: config.SettingsFile, Key: "sync.columns", Msg: oe.Error()}
	}
	if err != nil {
		return nil, failure.Source(r.stream.Name, err)
	}
	return s, nil
}

// nulledCounter sums, per column, the values the stream's parts wrote as
// NULL because their Parquet type cannot hold them; every read worker adds
// its closed parts' counts.
type nulledCounter struct {
	mu     sync.Mutex
	counts map[string]int64
}

func (c *nulledCounter) add(counts map[string]int64) {
	if len(counts) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]int64{}
	}
	for col, n := range counts {
		c.counts[col] += n
	}
}

// nulledCounts is a copy of the stream's counts so far; nil when none.
func (r *streamRun) nulledCounts() map[string]int64 {
	r.nulled.mu.Lock()
	defer r.nulled.mu.Unlock()
	return maps.Clone(r.nulled.counts)
}

package cdc

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/acode-dev/acode/internal/state"
)

// CursorStore is the part of the state store the checkpoints live in: one
// cursor row per change-log table holds its GTID position, a second one the
// commit in flight.
type CursorStore interface {
	GetCursor(ctx context.Context, connection, stream string) (state.Cursor, bool, error)
	SetCursor(ctx context.Context, c state.Cursor) error
}

// cursorField marks a change log's cursor row: its value is a GTID position.
const cursorField = "_acode_gtid_position"

// pendingSuffix names the cursor row of a change log's commit in flight.
const pendingSuffix = "#pending"

// pending is written before a change-log file is committed and cleared
// after its checkpoint: a restart that finds it knows which file the
// interrupted commit was about, and whether it happened (the manifest
// lists the file) or not.
type pending struct {
	Manifest string `json:"manifest"`
	File     string `json:"file"`
	Position string `json:"position"`
}

type checkpoints struct {
	store      CursorStore
	connection string
}

func (c checkpoints) position(ctx context.Context, table string) (Position, bool, error) {
	cur, ok, err := c.store.GetCursor(ctx, c.connection, table)
	if err != nil || !ok {
		return nil, false, err
	}
	p, err := ParsePosition(cur.Value)
	if err != nil {
		return nil, false, fmt.Errorf("checkpoint of %s/%s: %w", c.connection, table, err)
	}
	return p, true, nil
}

func (c checkpoints) save(ctx context.Context, table string, p Position) error {
	return c.store.SetCursor(ctx, state.Cursor{Connection: c.connection, Stream: table,
		Field: []string{cursorField}, Value: p.String()})
}

func (c checkpoints) pending(ctx context.Context, table string) (*pending, error) {
	cur, ok, err := c.store.GetCursor(ctx, c.connection, table+pendingSuffix)
	if err != nil || !ok || cur.Value == "" {
		return nil, err
	}
	var p pending
	if err := json.Unmarshal([]byte(cur.Value), &p); err != nil {
		return nil, fmt.Errorf("pending commit of %s/%s: %w", c.connection, table, err)
	}
	return &p, nil
}

// setPending records (p != nil) or clears (nil) the commit in flight.
func (c checkpoints) setPending(ctx context.Context, table string, p *pending) error {
	value := ""
	if p != nil {
		data, err := json.Marshal(p)
		if err != nil {
			return err
		}
		value = string(data)
	}
	return c.store.SetCursor(ctx, state.Cursor{Connection: c.connection, Stream: table + pendingSuffix,
		Field: []string{cursorField}, Value: value})
}

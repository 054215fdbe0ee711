package validate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// Side is one connection's partition in a comparison.
type Side struct {
	Connection  string    `json:"connection"`
	Partition   string    `json:"partition"`
	Status      string    `json:"status"` // manifest status, or "missing"
	JobID       int64     `json:"job_id,omitempty"`
	Files       int       `json:"files"`
	Rows        int64     `json:"rows"`
	CommittedAt time.Time `json:"committed_at,omitzero"` // freshness of the side
	SourceHost  string    `json:"source_host,omitempty"`
	GTID        string    `json:"gtid_position,omitempty"`
}

// ColumnDiff compares one column's exact sum and NULL count.
type ColumnDiff struct {
	Column       string `json:"column"`
	PrimarySum   string `json:"primary_sum,omitempty"`
	BackupSum    string `json:"backup_sum,omitempty"`
	PrimaryNulls int64  `json:"primary_nulls"`
	BackupNulls  int64  `json:"backup_nulls"`
	Differs      bool   `json:"differs"`
}

// Comparison is a primary partition against its backup's for one stream.
type Comparison struct {
	Stream      string       `json:"stream"`
	Primary     Side         `json:"primary"`
	Backup      Side         `json:"backup"`
	RowDiff     int64        `json:"row_difference"` // primary - backup
	Columns     []ColumnDiff `json:"columns,omitempty"`
	Key         string       `json:"key,omitempty"`
	OnlyPrimary int64        `json:"only_in_primary"`
	OnlyBackup  int64        `json:"only_in_backup"`
	// The first keys (up to quality.list_keys) found on one side only.
	OnlyPrimaryKeys []string `json:"only_in_primary_keys,omitempty"`
	OnlyBackupKeys  []string `json:"only_in_backup_keys,omitempty"`
	Warnings        []string `json:"warnings,omitempty"`
}

// Compare compares the day's partitions of primary and backup stream by
// stream: file and row counts, per-column sums and NULL counts from the
// statistics, the key sets read from the files, and each side's freshness.
// A row difference above quality.backup_variance_rows is a warning.
func Compare(ctx context.Context, pStore, bStore storage.Store, settings config.QualitySettings, primary, backup *config.Connection, day time.Time) ([]Comparison, error) {
	var out []Comparison
	for _, s := range primary.SelectedStreams() {
		c := Comparison{Stream: s.Name}
		pm, err := side(ctx, pStore, primary, s, day, &c.Primary)
		if err != nil {
			return nil, err
		}
		bs, ok := streamOf(backup, s.Name)
		if !ok {
			c.Warnings = append(c.Warnings, "the backup connection does not select this stream")
			out = append(out, c)
			continue
		}
		bm, err := side(ctx, bStore, backup, bs, day, &c.Backup)
		if err != nil {
			return nil, err
		}
		c.RowDiff = c.Primary.Rows - c.Backup.Rows
		if abs(c.RowDiff) > int64(settings.BackupVarianceRows) {
			c.Warnings = append(c.Warnings, fmt.Sprintf("significant data variance: %d rows (threshold %d)", abs(c.RowDiff), settings.BackupVarianceRows))
		}
		if pm == nil || bm == nil {
			c.Warnings = append(c.Warnings, "one side has no committed snapshot")
			out = append(out, c)
			continue
		}
		c.Columns = columnDiffs(pm, bm)
		if key := catalogKey(s.PrimaryKey); key != "" {
			c.Key = key
			if err := keyDiff(ctx, pStore, bStore, pm, bm, key, settings.ListKeys, &c); err != nil {
				return nil, err
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func side(ctx context.Context, store storage.Store, conn *config.Connection, s config.Stream, day time.Time, sd *Side) (*snapshot.Manifest, error) {
	l := StreamLayout(conn, s, day)
	*sd = Side{Connection: conn.ResourceName, Partition: l.Partition, Status: "missing"}
	m, err := snapshot.ReadManifest(ctx, store, l.ManifestKey())
	if errors.Is(err, storage.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sd.Status, sd.JobID, sd.Files, sd.Rows, sd.CommittedAt = m.Status, m.JobID, len(m.Files), m.Rows, m.CommittedAt
	sd.SourceHost, sd.GTID = m.Source.Host, m.Source.GTIDPosition
	return m, nil
}

func streamOf(c *config.Connection, name string) (config.Stream, bool) {
	for _, s := range c.SelectedStreams() {
		if s.Name == name {
			return s, true
		}
	}
	return config.Stream{}, false
}

// catalogKey is the single-column primary key of the catalog, or "".
func catalogKey(pk [][]string) string {
	if len(pk) != 1 || len(pk[0]) == 0 {
		return ""
	}
	return pk[0][len(pk[0])-1]
}

func columnDiffs(pm, bm *snapshot.Manifest) []ColumnDiff {
	if pm.Stats == nil || bm.Stats == nil {
		return nil
	}
	var out []ColumnDiff
	for _, pc := range pm.Stats.Columns {
		bc, ok := bm.Stats.Column(pc.Name)
		if !ok {
			continue
		}
		d := ColumnDiff{Column: pc.Name, PrimarySum: pc.Sum, BackupSum: bc.Sum, PrimaryNulls: pc.Nulls, BackupNulls: bc.Nulls}
		d.Differs = d.PrimarySum != d.BackupSum || d.PrimaryNulls != d.BackupNulls
		out = append(out, d)
	}
	return out
}

// keyDiff reads the key column of both sides and lists the keys found on
// one side only. Integer keys are sorted and merged (8 bytes a row per
// side in memory).
func keyDiff(ctx context.Context, pStore, bStore storage.Store, pm, bm *snapshot.Manifest, key string, list int, c *Comparison) error {
	pk, err := readKeys(ctx, pStore, pm, key)
	if err != nil {
		return err
	}
	bk, err := readKeys(ctx, bStore, bm, key)
	if err != nil {
		return err
	}
	slices.Sort(pk)
	slices.Sort(bk)
	i, j := 0, 0
	onlyP := func(v int64) {
		c.OnlyPrimary++
		if len(c.OnlyPrimaryKeys) < list {
			c.OnlyPrimaryKeys = append(c.OnlyPrimaryKeys, strconv.FormatInt(v, 10))
		}
	}
	onlyB := func(v int64) {
		c.OnlyBackup++
		if len(c.OnlyBackupKeys) < list {
			c.OnlyBackupKeys = append(c.OnlyBackupKeys, strconv.FormatInt(v, 10))
		}
	}
	for i < len(pk) || j < len(bk) {
		switch {
		case j == len(bk) || (i < len(pk) && pk[i] < bk[j]):
			onlyP(pk[i])
			i++
		case i == len(pk) || bk[j] < pk[i]:
			onlyB(bk[j])
			j++
		default:
			i++
			j++
		}
	}
	return nil
}

func readKeys(ctx context.Context, store storage.Store, m *snapshot.Manifest, key string) ([]int64, error) {
	keys := make([]int64, 0, m.Rows)
	for _, f := range m.Files {
		lf, err := parquet.Download(ctx, store, f.Key)
		if err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
		pf, err := lf.Open()
		if err == nil {
			err = parquet.ColumnValues(pf, key, func(v pq.Value) {
				if v.Kind() == pq.Int32 {
					keys = append(keys, int64(v.Int32()))
				} else {
					keys = append(keys, v.Int64())
				}
			})
		}
		lf.Close()
		if err != nil {
			return nil, fmt.Errorf("compare: keys of %s: %w", f.Key, err)
		}
	}
	return keys, nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

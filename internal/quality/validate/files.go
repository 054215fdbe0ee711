package validate

import (
	"context"
	"errors"
	"fmt"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// fileProblems checks one part against its manifest entry and schema,
// returning what is wrong (nothing when it is intact) and the opened
// Parquet file when it could be opened.
func fileProblems(ctx context.Context, store storage.Store, f snapshot.File, schema snapshot.Schema) ([]string, *parquet.Local, *pq.File, error) {
	lf, err := parquet.Download(ctx, store, f.Key)
	if errors.Is(err, storage.ErrNotExist) {
		return []string{"missing: " + f.Key}, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	var problems []string
	if lf.Size != f.Bytes {
		problems = append(problems, fmt.Sprintf("size: %s is %d bytes, manifest says %d", f.Key, lf.Size, f.Bytes))
	}
	if f.SHA256 != "" && lf.SHA256 != f.SHA256 {
		problems = append(problems, fmt.Sprintf("checksum: %s has SHA-256 %s…, manifest says %s…", f.Key, lf.SHA256[:12], short(f.SHA256)))
	}
	pf, err := lf.Open()
	if err != nil {
		problems = append(problems, fmt.Sprintf("parquet: %s does not open: %v", f.Key, err))
		return problems, lf, nil, nil
	}
	if pf.NumRows() != f.Rows {
		problems = append(problems, fmt.Sprintf("rows: %s holds %d rows, manifest says %d", f.Key, pf.NumRows(), f.Rows))
	}
	if p := schemaProblem(pf, schema); p != "" {
		problems = append(problems, fmt.Sprintf("schema: %s %s", f.Key, p))
	}
	return problems, lf, pf, nil
}

// schemaProblem compares the file's top-level fields with the manifest's
// recorded columns: names, order and nullability.
func schemaProblem(pf *pq.File, s snapshot.Schema) string {
	fields := pf.Schema().Fields()
	if len(s.Columns) == 0 {
		return ""
	}
	if len(fields) != len(s.Columns) {
		return fmt.Sprintf("has %d columns, manifest records %d", len(fields), len(s.Columns))
	}
	for i, f := range fields {
		c := s.Columns[i]
		if f.Name() != c.Name {
			return fmt.Sprintf("column %d is %s, manifest records %s", i+1, f.Name(), c.Name)
		}
		if f.Optional() != c.Nullable {
			return fmt.Sprintf("column %s nullable=%v, manifest records %v", c.Name, f.Optional(), c.Nullable)
		}
	}
	return ""
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"

	pq "github.com/parquet-go/parquet-go"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/parquet"
	"github.com/acode-dev/acode/internal/snapshot"
	"github.com/acode-dev/acode/internal/storage"
)

// The merge of an incremental stream's day. Both partitions are committed
// and intact; the primary's lacks rows the backup read while it was down
// (or holds older versions of them). The merged snapshot holds, for every
// primary key found on either side, the row with the greatest cursor; on a
// tie the primary's row (then the earlier file and row) is kept, so a
// second run finds nothing newer on the backup and changes nothing.
//
// Memory: the key pass keeps one entry per distinct key (the key's text,
// its cursor value, where the winning row is: about 100 bytes for a BIGINT
// key) for the keys of one hash bucket at a time. With n rows on both
// sides the merge runs in ceil(n / KeysPerPass) buckets, each a key pass
// and a row pass over the downloaded files, so memory stays near
// KeysPerPass entries (400 MB at the 4M default) plus one row group of the
// part being written, whatever the partition's size; the cost is one extra
// read of the files per bucket. Files are downloaded once to temp files
// (disk: both partitions' size).

// DefaultKeysPerPass bounds the keys a merge holds in memory at once.
const DefaultKeysPerPass = 4_000_000

// mergeRowsPerPart is the most rows a merged part holds.
const mergeRowsPerPart = 1_000_000

// ErrNotMergeable means the two partitions cannot be merged row by row
// (different schemas, no key, no cursor): the action says why.
var ErrNotMergeable = errors.New("partitions cannot be merged")

// mergeInput is what a merge reads: both sides' manifests and files.
type mergeInput struct {
	stream      config.Stream
	primary     *snapshot.Manifest
	backup      *snapshot.Manifest
	backupKey   string
	files       []*parquet.Local // the primary's files, then the backup's
	nPrimary    int
	decoders    []*parquet.Decoder
	keyCols     []int
	keyNames    []string
	cursorCol   int
	cursorType  pq.Type
	keysPerPass int
	seed        maphash.Seed
}

// winner is where the newest version of a key is.
type winner struct {
	cursor    pq.Value
	file      int32
	onPrimary bool // some version of the key is on the primary
	row       int64
	versions  int32
}

// plan checks the two snapshots can be merged and resolves key and cursor.
func planMerge(s config.Stream, pm, bm *snapshot.Manifest) (*mergeInput, error) {
	switch {
	case len(s.PrimaryKey) == 0:
		return nil, fmt.Errorf("%w: stream %s has no primary key to deduplicate by", ErrNotMergeable, s.Name)
	case len(s.CursorField) != 1:
		return nil, fmt.Errorf("%w: stream %s needs exactly one cursor field", ErrNotMergeable, s.Name)
	case pm.Schema.Fingerprint != bm.Schema.Fingerprint || pm.Schema.TypeMode != bm.Schema.TypeMode:
		return nil, fmt.Errorf("%w: the primary's schema (%s, %s) differs from the backup's (%s, %s)", ErrNotMergeable,
			pm.Schema.Fingerprint, pm.Schema.TypeMode, bm.Schema.Fingerprint, bm.Schema.TypeMode)
	}
	table := pm.Table()
	in := &mergeInput{stream: s, primary: pm, backup: bm, keysPerPass: DefaultKeysPerPass, seed: maphash.MakeSeed()}
	index := func(name string) int {
		for i, c := range table.Columns {
			if strings.EqualFold(c.Name, name) {
				return i
			}
		}
		return -1
	}
	for _, path := range s.PrimaryKey {
		if len(path) == 0 {
			continue
		}
		i := index(path[len(path)-1])
		if i < 0 {
			return nil, fmt.Errorf("%w: key column %s is not in the files", ErrNotMergeable, path[len(path)-1])
		}
		in.keyCols, in.keyNames = append(in.keyCols, i), append(in.keyNames, table.Columns[i].Name)
	}
	if in.cursorCol = index(s.CursorField[0]); in.cursorCol < 0 {
		return nil, fmt.Errorf("%w: cursor column %s is not in the files", ErrNotMergeable, s.CursorField[0])
	}
	return in, nil
}

// fetch downloads both sides' files and checks them against their
// manifests' checksums.
func (in *mergeInput) fetch(ctx context.Context, pStore, bStore storage.Store) error {
	table := in.primary.Table()
	get := func(store storage.Store, f snapshot.File) error {
		l, err := parquet.Fetch(ctx, store, f.Key)
		if err != nil {
			return err
		}
		in.files = append(in.files, l)
		if f.SHA256 != "" && l.SHA256 != f.SHA256 {
			return fmt.Errorf("%s changed since it was validated (SHA-256 %s, manifest %s)", f.Key, l.SHA256, f.SHA256)
		}
		d, err := parquet.NewDecoder(l.File, table)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Key, err)
		}
		in.decoders = append(in.decoders, d)
		return nil
	}
	for _, f := range in.primary.Files {
		if err := get(pStore, f); err != nil {
			return err
		}
	}
	in.nPrimary = len(in.files)
	for _, f := range in.backup.Files {
		if err := get(bStore, f); err != nil {
			return err
		}
	}
	if len(in.files) > 0 {
		leaf := in.files[0].File.Schema().Columns()[in.decoders[0].Leaf(in.cursorCol)]
		col, _ := in.files[0].File.Schema().Lookup(leaf...)
		in.cursorType = col.Node.Type()
	}
	return nil
}

func (in *mergeInput) close() {
	for _, f := range in.files {
		f.Close()
	}
}

// passes is the number of key-hash buckets that keeps each pass within
// keysPerPass keys.
func (in *mergeInput) passes() int {
	rows := in.primary.Rows + in.backup.Rows
	return max(1, int((rows+int64(in.keysPerPass)-1)/int64(in.keysPerPass)))
}

// appendKey encodes the key columns of row: length-prefixed text, with a
// distinct marker for NULL.
func (in *mergeInput) appendKey(b []byte, row [][]byte) []byte {
	for _, i := range in.keyCols {
		if row[i] == nil {
			b = append(b, 0xff)
			continue
		}
		b = strconv.AppendInt(b, int64(len(row[i])), 10)
		b = append(b, ':')
		b = append(b, row[i]...)
	}
	return b
}

// newer reports whether cursor a is after b; NULL is before every value.
func (in *mergeInput) newer(a, b pq.Value) bool {
	switch {
	case a.IsNull():
		return false
	case b.IsNull():
		return true
	}
	return in.cursorType.Compare(a, b) > 0
}

// keyPass finds the newest version of every key of bucket (of buckets).
func (in *mergeInput) keyPass(bucket, buckets int) (map[string]winner, error) {
	in.decodeOnly(nil)
	keys := map[string]winner{}
	var kb []byte
	for fi, f := range in.files {
		dec, row := in.decoders[fi], int64(-1)
		err := parquet.EachRow(f.File, func(r pq.Row) error {
			row++
			text, err := dec.Text(r)
			if err != nil {
				return err
			}
			kb = in.appendKey(kb[:0], text)
			if buckets > 1 && int(maphash.Bytes(in.seed, kb)%uint64(buckets)) != bucket {
				return nil
			}
			cur := dec.Value(in.cursorCol)
			primary := fi < in.nPrimary
			w, ok := keys[string(kb)]
			switch {
			case !ok:
				w = winner{cursor: cur.Clone(), file: int32(fi), row: row}
			case in.newer(cur, w.cursor):
				w.cursor, w.file, w.row = cur.Clone(), int32(fi), row
			}
			w.onPrimary = w.onPrimary || primary
			w.versions++
			keys[string(kb)] = w
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("key pass over %s: %w", f.Key, err)
		}
	}
	return keys, nil
}

// decodeOnly limits decoding to key, cursor and extra columns.
func (in *mergeInput) decodeOnly(extra []string) {
	cols := append(append(slices.Clip(in.keyNames), in.stream.CursorField[0]), extra...)
	for _, d := range in.decoders {
		d.Only(cols)
	}
}

// mergeCounts is what the backup contributes.
type mergeCounts struct {
	added, replaced, dropped, rows int64
}

func (in *mergeInput) count(keys map[string]winner, c *mergeCounts) {
	for _, w := range keys {
		c.rows++
		c.dropped += int64(w.versions - 1)
		if int(w.file) < in.nPrimary {
			continue
		}
		if w.onPrimary {
			c.replaced++
		} else {
			c.added++
		}
	}
}

// contribution runs every key pass and counts what the backup adds.
func (in *mergeInput) contribution() (mergeCounts, map[string]winner, error) {
	var c mergeCounts
	buckets := in.passes()
	var last map[string]winner
	for b := range buckets {
		keys, err := in.keyPass(b, buckets)
		if err != nil {
			return c, nil, err
		}
		in.count(keys, &c)
		last = keys
	}
	if buckets > 1 {
		last = nil // one bucket's keys: the merge redoes each pass
	}
	return c, last, nil
}

func mergeTag(pm, bm *snapshot.Manifest, backupKey string) string {
	h := sha256.Sum256([]byte(pm.CommittedAt.String() + "\x00" + backupKey + "\x00" + strconv.FormatInt(bm.JobID, 10)))
	return hex.EncodeToString(h[:4])
}

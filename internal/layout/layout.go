// Package layout renders where a stream's files go: destination-s3's path
// variables, the Hive partition directory Athena and Spark read, the unique
// part names of one job, and the side locations acode keeps for itself
// (staging, quarantine) outside every table's prefix.
package layout

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// DefaultPathFormat is destination-s3's default s3_path_format.
const DefaultPathFormat = "${NAMESPACE}/${STREAM_NAME}/${YEAR}_${MONTH}_${DAY}_${EPOCH}_"

// Vars are the values of destination-s3's path variables for one stream of
// one job. Airbyte takes the time once per sync, in UTC; so do we.
type Vars struct {
	Namespace string
	Stream    string
	Time      time.Time
	UUID      string
}

// Render expands destination-s3's path variables in format. Unknown
// variables are left as they are, as destination-s3 does.
func Render(format string, v Vars) string {
	t := v.Time.UTC()
	r := strings.NewReplacer(
		"${NAMESPACE}", v.Namespace,
		"${STREAM_NAME}", v.Stream,
		"${YEAR}", fmt.Sprintf("%04d", t.Year()),
		"${MONTH}", fmt.Sprintf("%02d", int(t.Month())),
		"${DAY}", fmt.Sprintf("%02d", t.Day()),
		"${HOUR}", fmt.Sprintf("%02d", t.Hour()),
		"${MINUTE}", fmt.Sprintf("%02d", t.Minute()),
		"${SECOND}", fmt.Sprintf("%02d", t.Second()),
		"${MILLISECOND}", fmt.Sprintf("%04d", t.Nanosecond()/int(time.Millisecond)),
		"${EPOCH}", strconv.FormatInt(t.UnixMilli(), 10),
		"${UUID}", v.UUID,
	)
	return r.Replace(format)
}

// Stream is the rendered layout of one stream in one job.
type Stream struct {
	// Partition is the directory (key prefix, no trailing slash) whose
	// content is the stream's snapshot for this job's day: the bucket path
	// joined with the directory part of the rendered path format.
	Partition string
	// FilePrefix is the last segment of the rendered path format, the start
	// of every part's file name.
	FilePrefix string
	// Day is the job's UTC date, used in part names like the seed's
	// file_<stream>_20250807_001.parquet.
	Day string
}

// ForStream renders bucketPath + pathFormat for one stream.
func ForStream(bucketPath, pathFormat string, v Vars) Stream {
	if pathFormat == "" {
		pathFormat = DefaultPathFormat
	}
	rendered := Render(pathFormat, v)
	dir, prefix := path.Split(rendered)
	return Stream{
		Partition:  Join(bucketPath, strings.TrimSuffix(dir, "/")),
		FilePrefix: prefix,
		Day:        v.Time.UTC().Format("20060102"),
	}
}

// PartName is the file name of one part: unique per job and part so that two
// jobs never write the same key, and sortable so listings read in order.
func (s Stream) PartName(jobID int64, part int) string {
	prefix := s.FilePrefix
	if prefix != "" && !strings.HasSuffix(prefix, "_") {
		prefix += "_"
	}
	return fmt.Sprintf("%s%s_%d_%03d.parquet", prefix, s.Day, jobID, part)
}

// PartNumber is the part number in a name PartName made for jobID; ok is
// false for any other name.
func (s Stream) PartNumber(jobID int64, name string) (n int, ok bool) {
	head := strings.TrimSuffix(s.PartName(jobID, 0), "000.parquet")
	digits, found := strings.CutPrefix(path.Base(name), head)
	if !found {
		return 0, false
	}
	digits, found = strings.CutSuffix(digits, ".parquet")
	n, err := strconv.Atoi(digits)
	if !found || err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// PartKey is the published key of a part.
func (s Stream) PartKey(jobID int64, part int) string {
	return Join(s.Partition, s.PartName(jobID, part))
}

// ManifestKey is where a partition's manifest lives. The leading underscore
// makes Athena, Hive and Spark skip it when they read the partition.
func (s Stream) ManifestKey() string { return Join(s.Partition, ManifestName) }

// SuccessKey is the marker written after the manifest, Spark's convention.
func (s Stream) SuccessKey() string { return Join(s.Partition, SuccessName) }

// Names of the files acode keeps beside the parts.
const (
	ManifestName = "_acode_manifest.json"
	SuccessName  = "_SUCCESS"
)

// StagingPrefix is where a job's parts wait until they are published. It
// lies outside every stream's prefix, so no reader of a table ever sees a
// part of a job that has not committed.
func StagingPrefix(bucketPath, connection string, jobID int64) string {
	return Join(bucketPath, "_acode_staging", connection, strconv.FormatInt(jobID, 10))
}

// StagingRoot is the parent of every job's staging prefix of a connection.
func StagingRoot(bucketPath, connection string) string {
	return Join(bucketPath, "_acode_staging", connection)
}

// IsPart reports whether a key names a data file readers would load.
func IsPart(key string) bool {
	base := path.Base(key)
	return strings.HasSuffix(base, ".parquet") && !strings.HasPrefix(base, "_") && !strings.HasPrefix(base, ".")
}

// Join joins key segments with '/', skipping empty ones and trimming stray
// slashes, so a bucket path with or without a trailing slash gives the same key.
func Join(parts ...string) string {
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		p = strings.Trim(p, "/")
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "/")
}

package config

import (
	"fmt"
	"regexp"
	"strings"
)

// DefaultArchivePrefix is where the monthly archives go when
// archive.prefix is not set: outside every s3_bucket_path, so tables over
// the bronze prefix never read them, and under the default lifecycle
// rule for acode_historical/ (GLACIER, kept 7 years).
const DefaultArchivePrefix = "acode_historical/monthly_snapshots"

// DefaultYearlyPrefix is where each year's last monthly archive is kept
// (the seed's acode_historical/yearly_archives/) when
// archive.yearly_prefix is not set.
const DefaultYearlyPrefix = "acode_historical/yearly_archives"

// HistoricalPrefix is the seed's acode_historical/: the archives and the
// config backups, under the lifecycle's archive retention rule.
const HistoricalPrefix = "acode_historical/"

// ArchiveSettings are acode.yaml's "archive" section: where `acode archive`
// (and serve's monthly care) keeps the month's snapshots.
type ArchiveSettings struct {
	// Bucket (bucket) is a separate S3 bucket for the archives (and the
	// monthly config backups), reached with the endpoint, region and
	// credentials of each archived connection's destination. Empty: the
	// destination's own bucket.
	Bucket string
	// Prefix (prefix) is the key prefix of the archives in that bucket,
	// without a trailing "/"; DefaultArchivePrefix when absent.
	Prefix string
	// YearlyPrefix (yearly_prefix) is where the year's last monthly
	// archive is copied once the year ended; DefaultYearlyPrefix when absent.
	YearlyPrefix string
	// BucketLine and PrefixLine are where they are written in acode.yaml
	// (0 when absent), for errors found once the connections are known.
	BucketLine, PrefixLine int
}

func defaultArchiveSettings() ArchiveSettings {
	return ArchiveSettings{Prefix: DefaultArchivePrefix, YearlyPrefix: DefaultYearlyPrefix}
}

// bucketName is S3's rule for bucket names (3-63 lowercase letters,
// digits, dots and hyphens, starting and ending with a letter or digit).
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func (s *ArchiveSettings) decode(m *mapNode, _ func(string) string) {
	if m.str("bucket", &s.Bucket) {
		s.BucketLine = m.lineOf("bucket")
		if s.Bucket != "" && (!bucketName.MatchString(s.Bucket) || strings.Contains(s.Bucket, "..")) {
			m.errorf("bucket", "%q is not an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)", s.Bucket)
		}
	}
	if m.str("prefix", &s.Prefix) {
		s.PrefixLine = m.lineOf("prefix")
		if msg := checkKeyPrefix(s.Prefix); msg != "" {
			m.errorf("prefix", "%s", msg)
		}
		s.Prefix = strings.TrimSuffix(s.Prefix, "/")
	}
	if m.str("yearly_prefix", &s.YearlyPrefix) {
		if msg := checkKeyPrefix(s.YearlyPrefix); msg != "" {
			m.errorf("yearly_prefix", "%s", msg)
		}
		s.YearlyPrefix = strings.TrimSuffix(s.YearlyPrefix, "/")
		if s.YearlyPrefix == s.Prefix {
			m.errorf("yearly_prefix", "must differ from archive.prefix %q: a year would overwrite a month", s.Prefix)
		}
	}
}

// checkKeyPrefix says what is wrong with an object key prefix, "" when
// nothing is.
func checkKeyPrefix(p string) string {
	t := strings.TrimSuffix(p, "/")
	if t == "" {
		return "must not be empty: the archives need a prefix of their own"
	}
	if strings.HasPrefix(t, "/") {
		return fmt.Sprintf("%q must be relative (no leading /)", p)
	}
	for _, seg := range strings.Split(t, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Sprintf("%q has an empty, . or .. segment", p)
		}
	}
	return ""
}

// ArchiveTarget is where connection c's archives are: the bucket (empty
// for a local destination: its directory) and the key prefix. A separate
// bucket on a connection that is not on S3, or an archive prefix inside
// the bronze layer's s3_bucket_path of the same bucket, is an error
// naming acode.yaml's key.
func (p *Project) ArchiveTarget(c *Connection) (bucket, prefix string, err error) {
	a := p.Settings.Archive
	prefix = a.Prefix
	if prefix == "" {
		prefix = DefaultArchivePrefix
	}
	d := c.Destination
	if d == nil {
		return "", "", fmt.Errorf("connection %s has no destination to archive", c.ResourceName)
	}
	if a.Bucket != "" {
		if d.Kind != KindS3 {
			return "", "", &Error{File: SettingsFile, Line: a.BucketLine, Key: "archive.bucket",
				Msg: fmt.Sprintf("a separate archive bucket needs S3 destinations; connection %s writes to a local directory (%s)", c.ResourceName, d.LocalPath)}
		}
		return a.Bucket, prefix, nil
	}
	if d.Kind == KindS3 {
		bucket = d.Bucket
	}
	if bp := strings.Trim(d.BucketPath, "/"); bp != "" && (prefix == bp || strings.HasPrefix(prefix, bp+"/")) {
		return "", "", &Error{File: SettingsFile, Line: a.PrefixLine, Key: "archive.prefix",
			Msg: fmt.Sprintf("%q is inside connection %s's s3_bucket_path %q: tables over the bronze layer would read the archives (choose another prefix or set archive.bucket)", prefix, c.ResourceName, bp)}
	}
	return bucket, prefix, nil
}

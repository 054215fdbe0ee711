package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// LifecycleRuleIDPrefix starts the id of every lifecycle rule acode writes:
// `acode lifecycle apply` replaces and removes only rules with such ids and
// keeps every other rule of the bucket.
const LifecycleRuleIDPrefix = "acode_"

// AbortUploadsRuleID is the rule that aborts incomplete multipart uploads.
const AbortUploadsRuleID = "acode_abort_incomplete_uploads"

// Storage classes a transition may name.
var LifecycleStorageClasses = []string{"STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"}

// LifecycleSettings are acode.yaml's "lifecycle" section: the S3 lifecycle
// rules `acode lifecycle plan|apply` keeps on the buckets, the seed's
// "S3 Lifecycle Management" by default.
type LifecycleSettings struct {
	// AbortIncompleteUploadsDays (abort_incomplete_uploads_days): every
	// bucket acode manages gets a rule aborting multipart uploads left
	// incomplete this many days. acode's own open uploads wait for their
	// commit, so this must be longer than jobs.max_duration.
	AbortIncompleteUploadsDays int
	// Rules (rules): the rules. Absent: the seed's two (see
	// DefaultLifecycleRules), resolved against the failover pairs.
	Rules []LifecycleRule
}

// LifecycleRule is one rule on one bucket.
type LifecycleRule struct {
	ID string // id: starts with LifecycleRuleIDPrefix
	// Destination (destination) is the S3 destination whose bucket the
	// rule is on and whose endpoint and credentials reach it. Empty in the
	// defaults: the pairs' backup (or primary) destinations.
	Destination string
	Bucket      string // bucket: another bucket, reached like Destination
	// Prefix (prefix): the keys the rule covers; default the destination's
	// s3_bucket_path plus "/".
	Prefix         string
	Transitions    []LifecycleTransition // transitions, by increasing days
	ExpirationDays int                   // expiration_days: 0 = never
	// Side says, for a default rule, which destination of each pair it
	// is on: "backup" or "primary".
	Side string
	// AbortDays is set on the abort rule only: incomplete multipart
	// uploads are aborted this many days after they began.
	AbortDays int
	Line      int
}

// LifecycleTransition moves objects to a storage class after Days.
type LifecycleTransition struct {
	Days         int    // days
	StorageClass string // storage_class
}

// DefaultLifecycleRules are the seed's: the backup prefix to STANDARD_IA at
// 30 days, GLACIER at 90 and DEEP_ARCHIVE at 365; the archive prefix
// (acode_historical/, beside the primary's data) to GLACIER at once and
// expired after 2555 days (7 years).
func DefaultLifecycleRules() []LifecycleRule {
	return []LifecycleRule{
		{ID: "acode_backup_transition", Side: "backup", Transitions: []LifecycleTransition{
			{30, "STANDARD_IA"}, {90, "GLACIER"}, {365, "DEEP_ARCHIVE"}}},
		{ID: "acode_archive_retention", Side: "primary", Prefix: "acode_historical/",
			Transitions: []LifecycleTransition{{0, "GLACIER"}}, ExpirationDays: 2555},
	}
}

func defaultLifecycleSettings() LifecycleSettings {
	return LifecycleSettings{AbortIncompleteUploadsDays: 7}
}

func (s *LifecycleSettings) decode(m *mapNode, _ func(string) string) {
	m.integer("abort_incomplete_uploads_days", &s.AbortIncompleteUploadsDays, 1, 3650)
	items := m.seq("rules")
	if items == nil && !m.has("rules") {
		return
	}
	s.Rules = []LifecycleRule{}
	ids := map[string]bool{}
	for i, it := range items {
		rm := m.item(it, "rules", i)
		if rm == nil {
			continue
		}
		r := LifecycleRule{Line: it.Line}
		rm.required("id", &r.ID)
		switch {
		case r.ID != "" && !strings.HasPrefix(r.ID, LifecycleRuleIDPrefix):
			rm.errorf("id", "must start with %q: apply replaces only rules whose id does, and keeps the bucket's others", LifecycleRuleIDPrefix)
		case r.ID == AbortUploadsRuleID:
			rm.errorf("id", "%q is the rule abort_incomplete_uploads_days writes", r.ID)
		case ids[r.ID]:
			rm.errorf("id", "%q is the id of an earlier rule", r.ID)
		}
		ids[r.ID] = true
		rm.required("destination", &r.Destination)
		rm.str("bucket", &r.Bucket)
		rm.str("prefix", &r.Prefix)
		r.Transitions = decodeTransitions(rm)
		rm.integer("expiration_days", &r.ExpirationDays, 0, 36500)
		if len(r.Transitions) == 0 && r.ExpirationDays == 0 && !rm.wasBad("transitions") {
			rm.errorf("id", "a rule needs transitions or expiration_days")
		}
		if n := len(r.Transitions); n > 0 && r.ExpirationDays > 0 && r.ExpirationDays <= r.Transitions[n-1].Days {
			rm.errorf("expiration_days", "must be after the last transition (day %d)", r.Transitions[n-1].Days)
		}
		rm.finish()
		s.Rules = append(s.Rules, r)
	}
}

func decodeTransitions(rm *mapNode) []LifecycleTransition {
	var out []LifecycleTransition
	for i, it := range rm.seq("transitions") {
		tm := rm.item(it, "transitions", i)
		if tm == nil {
			continue
		}
		t := LifecycleTransition{Days: -1}
		tm.integer("days", &t.Days, 0, 36500)
		if t.Days < 0 && !tm.wasBad("days") {
			tm.missing("days")
		}
		if !tm.enum("storage_class", &t.StorageClass, LifecycleStorageClasses...) && !tm.wasBad("storage_class") {
			tm.missing("storage_class")
		}
		if (t.StorageClass == "STANDARD_IA" || t.StorageClass == "ONEZONE_IA") && t.Days >= 0 && t.Days < 30 {
			tm.errorf("days", "S3 moves objects to %s after 30 days at the earliest", t.StorageClass)
		}
		if n := len(out); n > 0 && t.Days <= out[n-1].Days {
			tm.errorf("days", "transitions go by increasing days (the one before is day %d)", out[n-1].Days)
		}
		tm.finish()
		out = append(out, t)
	}
	return out
}

// checkAbortAfterJobs reports an abort rule that could abort the open
// uploads of a job still running: they wait, incomplete, for the commit.
func (s Settings) checkAbortAfterJobs() string {
	longest := s.Jobs.MaxDuration
	for _, p := range s.Jobs.Connections {
		longest = max(longest, p.MaxDuration)
	}
	abort := time.Duration(s.Lifecycle.AbortIncompleteUploadsDays) * 24 * time.Hour
	if abort > longest {
		return ""
	}
	return fmt.Sprintf("%d days is not longer than jobs.max_duration (%s): a running job's uploads stay incomplete until its commit and would be aborted",
		s.Lifecycle.AbortIncompleteUploadsDays, longest)
}

// BucketRule is a lifecycle rule resolved to its bucket: what the rules of
// acode.yaml (or the defaults) ask for on one bucket.
type BucketRule struct {
	LifecycleRule
	Via *Destination // the destination whose endpoint and credentials reach the bucket
}

// LifecycleRules resolves the lifecycle rules to buckets: each rule's
// destination (the default rules' on every failover pair whose side is on
// S3), bucket and prefix, plus the abort rule on every bucket concerned.
// Rules are in a stable order: by bucket, then id.
func (p *Project) LifecycleRules() ([]BucketRule, error) {
	rules := p.Settings.Lifecycle.Rules
	var out []BucketRule
	if rules == nil {
		pairs, err := p.FailoverPairs()
		if err != nil {
			return nil, err
		}
		for _, r := range DefaultLifecycleRules() {
			if r.Side == "primary" && p.Settings.Archive.Bucket != "" {
				out = append(out, p.archiveBucketRule(r, pairs)...)
				continue
			}
			if r.Side == "primary" {
				r.Prefix = p.archiveRulePrefix()
			}
			for _, pr := range pairs {
				conn := p.Connections[pr.Primary]
				if r.Side == "backup" {
					conn = p.Connections[pr.Backup]
				}
				if conn != nil && conn.Destination != nil && conn.Destination.Kind == KindS3 {
					out = append(out, bucketRule(r, conn.Destination))
				}
			}
		}
	} else {
		for _, r := range rules {
			d, ok := p.Destinations[r.Destination]
			if !ok || d.Kind != KindS3 {
				return nil, &Error{File: SettingsFile, Line: r.Line, Key: "lifecycle.rules." + r.ID + ".destination",
					Msg: fmt.Sprintf("%q is not an S3 destination of the project", r.Destination)}
			}
			out = append(out, bucketRule(r, d))
		}
	}
	return withAbortRules(out, p.Settings.Lifecycle.AbortIncompleteUploadsDays)
}

func bucketRule(r LifecycleRule, d *Destination) BucketRule {
	if r.Bucket == "" {
		r.Bucket = d.Bucket
	}
	if r.Prefix == "" && strings.Trim(d.BucketPath, "/") != "" {
		r.Prefix = strings.Trim(d.BucketPath, "/") + "/"
	}
	r.Destination = d.ResourceName
	return BucketRule{LifecycleRule: r, Via: d}
}

// withAbortRules adds the abort rule to every bucket, sorts, and refuses
// two rules with one id on one bucket.
func withAbortRules(rules []BucketRule, days int) ([]BucketRule, error) {
	seen := map[string]bool{}
	out := slices.Clone(rules)
	for _, r := range rules {
		if !seen[r.Bucket] {
			seen[r.Bucket] = true
			out = append(out, BucketRule{LifecycleRule: LifecycleRule{ID: AbortUploadsRuleID, Bucket: r.Bucket,
				Destination: r.Destination, AbortDays: days}, Via: r.Via})
		}
	}
	slices.SortStableFunc(out, func(a, b BucketRule) int {
		if c := strings.Compare(a.Bucket, b.Bucket); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for i := 1; i < len(out); i++ {
		if out[i].Bucket == out[i-1].Bucket && out[i].ID == out[i-1].ID {
			return nil, &Error{File: SettingsFile, Line: out[i].Line, Key: "lifecycle.rules",
				Msg: fmt.Sprintf("two rules %q on bucket %s (two pairs share the bucket: give explicit rules)", out[i].ID, out[i].Bucket)}
		}
	}
	return out, nil
}

// archiveRulePrefix is the prefix the default archive retention rule
// covers: acode_historical/ (archives and config backups), or
// archive.prefix when it is elsewhere.
func (p *Project) archiveRulePrefix() string {
	pre := p.Settings.Archive.Prefix
	if pre == "" || strings.HasPrefix(pre+"/", HistoricalPrefix) {
		return HistoricalPrefix
	}
	return pre + "/"
}

// archiveBucketRule puts the default archive retention rule on
// archive.bucket, once, reached through the first S3 destination that
// archives there (the pairs' primaries first): every connection's
// archives share that bucket.
func (p *Project) archiveBucketRule(r LifecycleRule, pairs []FailoverPair) []BucketRule {
	var via []string
	for _, pr := range pairs {
		via = append(via, pr.Primary)
	}
	via = append(via, p.ConnectionNames()...)
	for _, name := range via {
		c := p.Connections[name]
		if c != nil && c.Destination != nil && c.Destination.Kind == KindS3 {
			r.Bucket, r.Prefix = p.Settings.Archive.Bucket, p.archiveRulePrefix()
			return []BucketRule{bucketRule(r, c.Destination)}
		}
	}
	return nil
}

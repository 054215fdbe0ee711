// Package lifecycle keeps the S3 lifecycle rules of acode.yaml on their
// buckets: the seed's "S3 Lifecycle Management" (the backup prefix to
// cheaper storage classes, the archive kept 7 years) plus a rule aborting
// incomplete multipart uploads. A plan compares the rules acode wants with
// the bucket's configuration; apply writes the bucket's configuration back
// with acode's rules (ids starting "acode_") replaced and every other rule
// kept as it was, and writes nothing when nothing differs.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/acode-dev/acode/internal/config"
)

// API is what a bucket's lifecycle needs from S3: the SDK's *s3.Client.
type API interface {
	GetBucketLifecycleConfiguration(ctx context.Context, in *s3.GetBucketLifecycleConfigurationInput, opts ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error)
	PutBucketLifecycleConfiguration(ctx context.Context, in *s3.PutBucketLifecycleConfigurationInput, opts ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error)
}

// Actions of a Change.
const (
	ActionAdd       = "add"       // acode's rule is not on the bucket
	ActionChange    = "change"    // it is, but differs
	ActionRemove    = "remove"    // an acode_ rule acode.yaml no longer has
	ActionUnchanged = "unchanged" // it is, as wanted
	ActionKeep      = "keep"      // not acode's: kept as it is
)

// Change is one rule's line of a plan. Have and Want summarise the rule as
// the bucket has it and as acode wants it ("" when absent).
type Change struct {
	Bucket string `json:"bucket"`
	ID     string `json:"id"`
	Action string `json:"action"`
	Have   string `json:"have,omitempty"`
	Want   string `json:"want,omitempty"`
}

// BucketPlan is what apply would do to one bucket.
type BucketPlan struct {
	Bucket  string   `json:"bucket"`
	Changes []Change `json:"changes"`
	merged  []types.LifecycleRule
}

// Changed says whether apply would write the bucket's configuration.
func (b BucketPlan) Changed() bool {
	return slices.ContainsFunc(b.Changes, func(c Change) bool {
		return c.Action == ActionAdd || c.Action == ActionChange || c.Action == ActionRemove
	})
}

// Plan reads bucket's lifecycle configuration and compares it with rules
// (those of config.Project.LifecycleRules on this bucket).
func Plan(ctx context.Context, api API, bucket string, rules []config.BucketRule) (BucketPlan, error) {
	current, err := read(ctx, api, bucket)
	if err != nil {
		return BucketPlan{}, err
	}
	plan := BucketPlan{Bucket: bucket}
	wanted := map[string]bool{}
	for _, r := range rules {
		if r.Bucket != bucket {
			continue
		}
		wanted[r.ID] = true
		want := desired(r)
		c := Change{Bucket: bucket, ID: r.ID, Want: Summary(want), Action: ActionAdd}
		if i := slices.IndexFunc(current, func(h types.LifecycleRule) bool { return aws.ToString(h.ID) == r.ID }); i >= 0 {
			c.Have = Summary(current[i])
			c.Action = ActionChange
			if c.Have == c.Want {
				c.Action = ActionUnchanged
			}
		}
		plan.Changes = append(plan.Changes, c)
		plan.merged = append(plan.merged, want)
	}
	for _, h := range current {
		id := aws.ToString(h.ID)
		switch {
		case wanted[id]:
		case strings.HasPrefix(id, config.LifecycleRuleIDPrefix):
			plan.Changes = append(plan.Changes, Change{Bucket: bucket, ID: id, Action: ActionRemove, Have: Summary(h)})
		default:
			plan.Changes = append(plan.Changes, Change{Bucket: bucket, ID: id, Action: ActionKeep, Have: Summary(h)})
			plan.merged = append(plan.merged, h)
		}
	}
	return plan, nil
}

// Apply writes the plan's configuration when it changes anything, and says
// whether it wrote.
func Apply(ctx context.Context, api API, plan BucketPlan) (bool, error) {
	if !plan.Changed() {
		return false, nil
	}
	_, err := api.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket:                 aws.String(plan.Bucket),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: plan.merged},
	})
	if err != nil {
		return false, fmt.Errorf("put lifecycle configuration of bucket %s: %w", plan.Bucket, err)
	}
	return true, nil
}

// read returns the bucket's rules; none when it has no configuration.
func read(ctx context.Context, api API, bucket string) ([]types.LifecycleRule, error) {
	out, err := api.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchLifecycleConfiguration" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get lifecycle configuration of bucket %s: %w", bucket, err)
	}
	return out.Rules, nil
}

// desired is acode's rule as S3 takes it.
func desired(r config.BucketRule) types.LifecycleRule {
	lr := types.LifecycleRule{
		ID:     aws.String(r.ID),
		Status: types.ExpirationStatusEnabled,
		Filter: &types.LifecycleRuleFilter{Prefix: aws.String(r.Prefix)},
	}
	for _, t := range r.Transitions {
		lr.Transitions = append(lr.Transitions, types.Transition{Days: aws.Int32(int32(t.Days)), StorageClass: types.TransitionStorageClass(t.StorageClass)})
	}
	if r.ExpirationDays > 0 {
		lr.Expiration = &types.LifecycleExpiration{Days: aws.Int32(int32(r.ExpirationDays))}
	}
	if r.AbortDays > 0 {
		lr.AbortIncompleteMultipartUpload = &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(int32(r.AbortDays))}
	}
	return lr
}

// Summary renders a rule on one line, the same way whoever wrote it, so
// that two rules compare by their summaries: `prefix "p/" Enabled:
// STANDARD_IA at 30d, GLACIER at 90d; expire at 2555d; abort uploads at 7d`.
func Summary(r types.LifecycleRule) string {
	var parts []string
	for _, t := range sortedTransitions(r.Transitions) {
		switch {
		case t.Days != nil:
			parts = append(parts, fmt.Sprintf("%s at %dd", t.StorageClass, *t.Days))
		case t.Date != nil:
			parts = append(parts, fmt.Sprintf("%s on %s", t.StorageClass, t.Date.Format("2006-01-02")))
		}
	}
	s := fmt.Sprintf("prefix %q %s", prefixOf(r), r.Status)
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	if e := r.Expiration; e != nil {
		switch {
		case e.Days != nil:
			s += fmt.Sprintf("; expire at %dd", *e.Days)
		case e.Date != nil:
			s += "; expire on " + e.Date.Format("2006-01-02")
		case aws.ToBool(e.ExpiredObjectDeleteMarker):
			s += "; expired delete markers"
		}
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil && a.DaysAfterInitiation != nil {
		s += fmt.Sprintf("; abort uploads at %dd", *a.DaysAfterInitiation)
	}
	if f := r.Filter; f != nil && (f.Tag != nil || f.ObjectSizeGreaterThan != nil || f.ObjectSizeLessThan != nil || f.And != nil) {
		s += "; other filters"
	}
	if len(r.NoncurrentVersionTransitions) > 0 || r.NoncurrentVersionExpiration != nil {
		s += "; noncurrent versions"
	}
	return s
}

func prefixOf(r types.LifecycleRule) string {
	switch {
	case r.Filter != nil && r.Filter.Prefix != nil:
		return *r.Filter.Prefix
	case r.Filter != nil && r.Filter.And != nil:
		return aws.ToString(r.Filter.And.Prefix)
	}
	return aws.ToString(r.Prefix)
}

func sortedTransitions(ts []types.Transition) []types.Transition {
	out := slices.Clone(ts)
	slices.SortStableFunc(out, func(a, b types.Transition) int { return int(aws.ToInt32(a.Days) - aws.ToInt32(b.Days)) })
	return out
}

package lifecycle

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/testenv"
)

func seedRules(bucket string) []config.BucketRule {
	var out []config.BucketRule
	for _, r := range config.DefaultLifecycleRules() {
		r.Bucket = bucket
		if r.Prefix == "" {
			r.Prefix = "origin=airbyte/database=bronze_acode_backup/"
		}
		out = append(out, config.BucketRule{LifecycleRule: r})
	}
	return append(out, config.BucketRule{LifecycleRule: config.LifecycleRule{ID: config.AbortUploadsRuleID, Bucket: bucket, AbortDays: 7}})
}

func actions(p BucketPlan) map[string]string {
	m := map[string]string{}
	for _, c := range p.Changes {
		m[c.ID] = c.Action
	}
	return m
}

func TestApply_WritesTheSeedsRulesKeepsOthersAndIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := testenv.StartLifecycleS3(t)
	api := srv.Client(t)
	bucket := srv.NewBucket(t)
	foreign := types.LifecycleRule{ID: aws.String("team_logs_expire"), Status: types.ExpirationStatusEnabled,
		Filter: &types.LifecycleRuleFilter{Prefix: aws.String("logs/")}, Expiration: &types.LifecycleExpiration{Days: aws.Int32(30)}}
	stale := types.LifecycleRule{ID: aws.String("acode_old_rule"), Status: types.ExpirationStatusEnabled,
		Filter: &types.LifecycleRuleFilter{Prefix: aws.String("old/")}, Expiration: &types.LifecycleExpiration{Days: aws.Int32(10)}}
	if _, err := api.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(bucket),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{foreign, stale}}}); err != nil {
		t.Fatal(err)
	}

	plan, err := Plan(ctx, api, bucket, seedRules(bucket))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"acode_backup_transition": ActionAdd, "acode_archive_retention": ActionAdd,
		config.AbortUploadsRuleID: ActionAdd, "acode_old_rule": ActionRemove, "team_logs_expire": ActionKeep}
	if got := actions(plan); !equalMaps(got, want) {
		t.Fatalf("plan %v, want %v", got, want)
	}
	if wrote, err := Apply(ctx, api, plan); err != nil || !wrote {
		t.Fatalf("apply: wrote %v, %v", wrote, err)
	}

	// What the bucket holds now, read with the SDK directly.
	out, err := api.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]string{}
	for _, r := range out.Rules {
		byID[aws.ToString(r.ID)] = Summary(r)
	}
	wantRules := map[string]string{
		"team_logs_expire":        `prefix "logs/" Enabled; expire at 30d`,
		"acode_backup_transition": `prefix "origin=airbyte/database=bronze_acode_backup/" Enabled: STANDARD_IA at 30d, GLACIER at 90d, DEEP_ARCHIVE at 365d`,
		"acode_archive_retention": `prefix "acode_historical/" Enabled: GLACIER at 0d; expire at 2555d`,
		config.AbortUploadsRuleID: `prefix "" Enabled; abort uploads at 7d`,
	}
	if !equalMaps(byID, wantRules) {
		t.Fatalf("bucket rules:\n%v\nwant:\n%v", byID, wantRules)
	}

	// A second plan changes nothing and apply writes nothing.
	again, err := Plan(ctx, api, bucket, seedRules(bucket))
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() {
		t.Errorf("second plan changes %v", actions(again))
	}
	if wrote, err := Apply(ctx, api, again); err != nil || wrote {
		t.Errorf("second apply: wrote %v, %v", wrote, err)
	}

	// A changed rule in acode.yaml is one change, shown with both sides.
	rules := seedRules(bucket)
	rules[0].Transitions[1].Days = 120
	changed, err := Plan(ctx, api, bucket, rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changed.Changes {
		if c.ID == rules[0].ID && (c.Action != ActionChange || !strings.Contains(c.Have, "GLACIER at 90d") || !strings.Contains(c.Want, "GLACIER at 120d")) {
			t.Errorf("change %+v", c)
		}
	}
}

func TestPlan_ABucketWithoutConfigurationAddsEveryRule(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := testenv.StartLifecycleS3(t)
	bucket := srv.NewBucket(t)
	plan, err := Plan(ctx, srv.Client(t), bucket, seedRules(bucket))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) != 3 || !plan.Changed() {
		t.Errorf("plan %+v", plan.Changes)
	}
	for _, c := range plan.Changes {
		if c.Action != ActionAdd || c.Have != "" {
			t.Errorf("change %+v, want add", c)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

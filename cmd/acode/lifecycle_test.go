package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/testenv"
)

type lifecycleJSON struct {
	Buckets []struct {
		Bucket  string `json:"bucket"`
		Written bool   `json:"written"`
		Changes []struct {
			ID, Action, Have, Want string
		} `json:"changes"`
	} `json:"buckets"`
}

func runLifecycle(t *testing.T, p *testenv.Project, verb string) lifecycleJSON {
	t.Helper()
	out, errOut, code := acode(t, p, "lifecycle", verb, "--json")
	if code != 0 {
		t.Fatalf("lifecycle %s: exit %d\n%s\n%s", verb, code, out, errOut)
	}
	var res lifecycleJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(res.Buckets) != 1 || res.Buckets[0].Bucket != p.Bucket {
		t.Fatalf("buckets %+v, want the project's one", res.Buckets)
	}
	return res
}

func TestCLI_LifecyclePlanApplyTheSeedsRulesOnce(t *testing.T) {
	t.Parallel()
	srv := testenv.StartLifecycleS3(t)
	m := testenv.SharedMariaDB(t)
	p := testenv.NewProject(t, m, m.NewDatabase(t), srv)
	p.PointBackup(t, m)

	plan := runLifecycle(t, p, "plan")
	got := map[string]string{}
	for _, c := range plan.Buckets[0].Changes {
		got[c.ID] = c.Action + " " + c.Want
	}
	want := map[string]string{
		"acode_backup_transition":        `add prefix "origin=airbyte/database=bronze_acode_backup/" Enabled: STANDARD_IA at 30d, GLACIER at 90d, DEEP_ARCHIVE at 365d`,
		"acode_archive_retention":        `add prefix "acode_historical/" Enabled: GLACIER at 0d; expire at 2555d`,
		"acode_abort_incomplete_uploads": `add prefix "" Enabled; abort uploads at 7d`,
	}
	if len(got) != len(want) {
		t.Fatalf("plan %v", got)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}
	if plan.Buckets[0].Written {
		t.Error("plan wrote")
	}
	if again := runLifecycle(t, p, "plan"); again.Buckets[0].Changes[0].Action != "add" {
		t.Error("plan changed the bucket")
	}
	if applied := runLifecycle(t, p, "apply"); !applied.Buckets[0].Written {
		t.Error("apply did not write")
	}
	second := runLifecycle(t, p, "apply")
	if second.Buckets[0].Written {
		t.Error("the second apply wrote again")
	}
	for _, c := range second.Buckets[0].Changes {
		if c.Action != "unchanged" {
			t.Errorf("after apply: %+v", c)
		}
	}
	text, _, _ := acode(t, p, "lifecycle", "plan")
	if !strings.Contains(text, p.Bucket+": up to date") {
		t.Errorf("plan text:\n%s", text)
	}
}

func TestCLI_LifecycleSaysWhenTheServerLacksTheAPI(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t) // versitygw v1.8.0 answers NotImplemented
	m := testenv.SharedMariaDB(t)
	p := testenv.NewProject(t, m, m.NewDatabase(t), s3)
	p.PointBackup(t, m)
	_, errOut, code := acode(t, p, "lifecycle", "plan")
	if code != exitDestination || !strings.Contains(errOut, "does not implement bucket lifecycle configuration") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}

func TestCLI_LifecycleAbortMustOutlastTheLongestJob(t *testing.T) {
	t.Parallel()
	m := testenv.SharedMariaDB(t)
	p := testenv.NewProject(t, m, m.NewDatabase(t), nil)
	p.Settings(t)
	replaceInFile(t, p.Dir+"/acode.yaml", "sync:\n", "jobs:\n  max_duration: 200h\nlifecycle:\n  abort_incomplete_uploads_days: 7\nsync:\n")
	_, errOut, code := acode(t, p, "lifecycle", "plan")
	if code != exitConfig || !strings.Contains(errOut, "lifecycle.abort_incomplete_uploads_days") || !strings.Contains(errOut, "jobs.max_duration") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}

// With archive.bucket the archive retention rule goes on that bucket (at
// archive.prefix, here outside acode_historical/), once, with its own
// abort rule; the data bucket keeps the backup rule. Applied on moto.
func TestCLI_LifecycleArchiveRuleTargetsTheArchiveBucket(t *testing.T) {
	t.Parallel()
	srv := testenv.StartLifecycleS3(t)
	m := testenv.SharedMariaDB(t)
	p := testenv.NewProject(t, m, m.NewDatabase(t), srv)
	p.PointBackup(t, m)
	arch := srv.NewBucket(t)
	appendYAML(t, p, "archive:\n  bucket: "+arch+"\n  prefix: hist/monthly\n")
	for i, verb := range []string{"plan", "apply", "plan"} {
		out, errOut, code := acode(t, p, "lifecycle", verb, "--json")
		var res lifecycleJSON
		if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
			t.Fatalf("lifecycle %s: exit %d, %v\n%s\n%s", verb, code, err, out, errOut)
		}
		got := map[string]string{}
		for _, b := range res.Buckets {
			for _, c := range b.Changes {
				got[b.Bucket+" "+c.ID] = c.Action + " " + c.Want
			}
		}
		action := "add"
		if i == 2 {
			action = "unchanged"
		}
		want := map[string]string{
			p.Bucket + " acode_backup_transition":        action + ` prefix "origin=airbyte/database=bronze_acode_backup/" Enabled: STANDARD_IA at 30d, GLACIER at 90d, DEEP_ARCHIVE at 365d`,
			p.Bucket + " acode_abort_incomplete_uploads": action + ` prefix "" Enabled; abort uploads at 7d`,
			arch + " acode_archive_retention":            action + ` prefix "hist/monthly/" Enabled: GLACIER at 0d; expire at 2555d`,
			arch + " acode_abort_incomplete_uploads":     action + ` prefix "" Enabled; abort uploads at 7d`,
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %v", verb, got)
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s %s: %q, want %q", verb, k, got[k], w)
			}
		}
	}
}

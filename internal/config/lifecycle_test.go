package config

import (
	"strings"
	"testing"
)

func TestLoad_LifecycleRulesAreValidatedWithTheirKeys(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{SettingsFile, "", `lifecycle:
  rules:
    - id: my_rule
      destination: dst
      transitions: [{days: 10, storage_class: STANDARD_IA}]
    - id: acode_x
      destination: dst
      transitions: [{days: 90, storage_class: GLACIER}, {days: 30, storage_class: DEEP_ARCHIVE}]
      expiration_days: 20
    - id: acode_y
      destination: dst
      transitions: [{days: 1, storage_class: COLD}]
`})
	_, err := Load(dir, minimalEnv)
	if err == nil {
		t.Fatal("bad lifecycle rules loaded")
	}
	for _, want := range []string{
		`acode.yaml:3: lifecycle.rules[0].id: must start with "acode_"`,
		"lifecycle.rules[0].transitions[0].days: S3 moves objects to STANDARD_IA after 30 days at the earliest",
		"lifecycle.rules[1].transitions[1].days: transitions go by increasing days",
		"lifecycle.rules[1].expiration_days: must be after the last transition",
		"lifecycle.rules[2].transitions[0].storage_class",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

func TestLifecycleRules_ExplicitRuleOnABucketGetsTheAbortRule(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{SettingsFile, "", `lifecycle:
  abort_incomplete_uploads_days: 3
  rules:
    - id: acode_archive
      destination: dst
      bucket: archive-bucket
      prefix: hist/
      transitions: [{days: 0, storage_class: GLACIER}]
      expiration_days: 2555
`})
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := p.LifecycleRules()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].ID != AbortUploadsRuleID || rules[0].Bucket != "archive-bucket" || rules[0].AbortDays != 3 ||
		rules[1].ID != "acode_archive" || rules[1].Prefix != "hist/" || rules[1].Via.ResourceName != "dst" {
		t.Errorf("rules %+v", rules)
	}
}

func TestLifecycleRules_TheArchiveRuleTargetsTheArchiveBucket(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{SettingsFile, "", "archive:\n  bucket: acode-archive\n  prefix: hist/monthly/\n"})
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if a := p.Settings.Archive; a.Bucket != "acode-archive" || a.Prefix != "hist/monthly" || a.BucketLine != 2 {
		t.Fatalf("archive settings %+v", a)
	}
	rules, err := p.LifecycleRules()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[1].ID != "acode_archive_retention" || rules[1].Bucket != "acode-archive" ||
		rules[1].Prefix != "hist/monthly/" || rules[1].ExpirationDays != 2555 || rules[0].ID != AbortUploadsRuleID || rules[0].Bucket != "acode-archive" {
		t.Errorf("rules %+v", rules)
	}
	bucket, prefix, err := p.ArchiveTarget(p.Connections[p.ConnectionNames()[0]])
	if err != nil || bucket != "acode-archive" || prefix != "hist/monthly" {
		t.Errorf("archive target %q %q, %v", bucket, prefix, err)
	}
}

func TestLoad_ArchiveSettingsErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{SettingsFile, "", "archive:\n  bucket: Archive_Bucket\n  prefix: a//b\n  buckett: x\n"})
	_, err := Load(dir, minimalEnv)
	for _, want := range []string{`acode.yaml:2: archive.bucket: "Archive_Bucket" is not an S3 bucket name`,
		`acode.yaml:3: archive.prefix: "a//b" has an empty`, "archive.buckett"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

func TestLoad_YearlyPrefixMustDifferFromThePrefix(t *testing.T) {
	t.Parallel()
	_, err := Load(writeProject(t, edit{SettingsFile, "", "archive:\n  prefix: hist\n  yearly_prefix: hist/\n"}), minimalEnv)
	if err == nil || !strings.Contains(err.Error(), `acode.yaml:3: archive.yearly_prefix: must differ from archive.prefix "hist"`) {
		t.Errorf("err %v", err)
	}
}

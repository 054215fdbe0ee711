package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLoad_JobSettingsDefaultsAreTheSeeds(t *testing.T) {
	t.Parallel()
	p, err := Load(writeProject(t), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.JobPolicy("other")
	if err != nil {
		t.Fatal(err)
	}
	if got != (JobPolicy{Retries: 1, RetryDelay: 15 * time.Minute, MaxDuration: 3 * time.Hour}) || !p.Settings.Jobs.PromoteBackup {
		t.Errorf("defaults: %+v, promote %v", got, p.Settings.Jobs.PromoteBackup)
	}
}

func TestLoad_JobSettingsPerConnectionOverrides(t *testing.T) {
	t.Parallel()
	yaml := "jobs:\n  retries: 2\n  retry_delay: 0s\n  promote_backup: false\n  connections:\n" +
		"    conn:\n      retries: 0\n      max_duration: 2h\n"
	p, err := Load(writeProject(t, edit{SettingsFile, "", yaml}), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	prim, _ := p.JobPolicy("other")
	back, _ := p.JobPolicy("conn")
	if prim != (JobPolicy{Retries: 2, RetryDelay: 0, MaxDuration: 3 * time.Hour}) {
		t.Errorf("primary: %+v", prim)
	}
	if back != (JobPolicy{Retries: 0, RetryDelay: 0, MaxDuration: 2 * time.Hour}) {
		t.Errorf("backup override: %+v", back)
	}
	if p.Settings.Jobs.PromoteBackup {
		t.Error("promote_backup: false ignored")
	}
}

func TestLoad_JobSettingsErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ yaml, key, msg string }{
		{"jobs:\n  retries: -1\n", "jobs.retries", ""},
		{"jobs:\n  max_duration: 0s\n", "jobs.max_duration", "positive"},
		{"jobs:\n  connections:\n    conn:\n      retrys: 2\n", "jobs.connections.conn.retrys", "unknown key"},
	} {
		_, err := Load(writeProject(t, edit{SettingsFile, "", tt.yaml}), minimalEnv)
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.key) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%q: err = %v, want %s: %s", tt.yaml, err, tt.key, tt.msg)
		}
	}
	p, err := Load(writeProject(t, edit{SettingsFile, "", "jobs:\n  connections:\n    connection_typo:\n      retries: 0\n"}), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.JobPolicy("other"); err == nil || !strings.Contains(err.Error(), "connection_typo") {
		t.Errorf("override of a missing connection: %v", err)
	}
}

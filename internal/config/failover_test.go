package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestLoad_HealthAndFailoverDefaultsAreTheSeeds(t *testing.T) {
	t.Parallel()
	p, err := Load(writeProject(t), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	h := p.Settings.Health
	if h.Interval != 5*time.Minute || h.ConnectTimeout != 30*time.Second || h.FreshnessWarning != 12*time.Hour ||
		h.FreshnessCritical != 24*time.Hour || h.LagWarning != 300*time.Second || h.LagCritical != 600*time.Second ||
		h.FreshnessColumn != "Data_Processamento" || h.Location() != time.UTC {
		t.Errorf("health defaults: %+v", h)
	}
	f := p.Settings.Failover
	if !f.Automatic || f.ConsecutiveFailures != 3 || f.FailbackAfter != 3 || f.BackoffJitter != time.Minute ||
		!reflect.DeepEqual(f.Backoff, []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute}) {
		t.Errorf("failover defaults: %+v", f)
	}
	for _, c := range FailureClasses {
		if f.Strategies[c] == "" {
			t.Errorf("no default strategy for %s", c)
		}
	}
	if f.Strategies["primary_db_down"] != StrategyUseBackup || f.Strategies["schema_change"] != StrategyManual {
		t.Errorf("strategies: %v", f.Strategies)
	}
}

func TestLoad_HealthAndFailoverOverrides(t *testing.T) {
	t.Parallel()
	yml := `health:
  freshness_table: vendas
  freshness_time_zone: America/Sao_Paulo
  replication_lag_critical: 15m
failover:
  automatic: false
  backoff: [1m, 2m]
  backoff_jitter: 0
  strategies:
    network_partition: use_backup_immediately
`
	p, err := Load(writeProject(t, edit{SettingsFile, "", yml}), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	h := p.Settings.Health
	if h.FreshnessTable != "vendas" || h.Location().String() != "America/Sao_Paulo" || h.LagCritical != 15*time.Minute ||
		h.LagWarning != 5*time.Minute {
		t.Errorf("health: %+v", h)
	}
	f := p.Settings.Failover
	if f.Automatic || f.BackoffJitter != 0 || !reflect.DeepEqual(f.Backoff, []time.Duration{time.Minute, 2 * time.Minute}) {
		t.Errorf("failover: %+v", f)
	}
	if f.Strategies["network_partition"] != StrategyUseBackup || f.Strategies["connection_timeout"] != StrategyRetryPrimary {
		t.Errorf("strategies: only the one set may change: %v", f.Strategies)
	}
	if d := DefaultSettings(t.TempDir()).Failover.Strategies["network_partition"]; d != StrategyRetryPrimary {
		t.Errorf("overriding a strategy changed the defaults: %s", d)
	}
}

func TestLoad_HealthAndFailoverErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ yaml, key, msg string }{
		{"health:\n  freshness_warning: 48h\n", "health.freshness_warning", "must not be larger than freshness_critical"},
		{"health:\n  freshness_time_zone: Mars/Olympus\n", "health.freshness_time_zone", "IANA time zone"},
		{"health:\n  interval: soon\n", "health.interval", "must be a duration"},
		{"health:\n  lag: 5m\n", "health.lag", "unknown key"},
		{"failover:\n  backoff: [5m, later]\n", "failover.backoff[1]", "positive duration"},
		{"failover:\n  strategies:\n    primary_db_down: panic\n", "failover.strategies.primary_db_down", "must be one of"},
		{"failover:\n  strategies:\n    disk_full: use_backup_immediately\n", "failover.strategies.disk_full", "unknown key"},
		{"failover:\n  pairs:\n    - primary: conn\n", "failover.pairs[0].backup", "required key"},
		{"failover:\n  pairs:\n    - conn\n", "failover.pairs[0]", "must be a mapping"},
		{"failover:\n  consecutive_failures: 0\n", "failover.consecutive_failures", "between 1 and 100"},
	} {
		_, err := Load(writeProject(t, edit{SettingsFile, "", tt.yaml}), minimalEnv)
		errs := Errors(err)
		if len(errs) != 1 || errs[0].Key != tt.key || !strings.Contains(errs[0].Msg, tt.msg) {
			t.Errorf("%q: got %v, want one error at %s containing %q", tt.yaml, err, tt.key, tt.msg)
		}
	}
}

func TestFailoverPairs_InferredFromBackupSuffixOrValidated(t *testing.T) {
	t.Parallel()
	p, err := Load(exampleDir(t), exampleEnv)
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := p.FailoverPairs()
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 1 || pairs[0].Primary != "connection_mysql_s3_acode" || pairs[0].Backup != "connection_mysql_s3_acode_backup" {
		t.Errorf("inferred pairs = %+v", pairs)
	}

	for _, tt := range []struct {
		pairs string
		want  string // "" = valid
	}{
		{"[{primary: connection_mysql_local_acode, backup: connection_mysql_s3_acode_backup}]", ""},
		{"[]", ""},
		{"[{primary: connection_mysql_s3_acode, backup: nope}]", `unknown connection "nope"`},
		{"[{primary: connection_mysql_s3_acode, backup: connection_mysql_s3_acode}]", "the same connection"},
		{"[{primary: connection_mysql_s3_acode, backup: connection_mysql_s3_acode_backup}, " +
			"{primary: connection_mysql_local_acode, backup: connection_mysql_s3_acode_backup}]", "already in failover.pairs[0]"},
	} {
		q := *p
		q.Settings.Failover.Pairs = nil
		var doc struct {
			Failover struct {
				Pairs []map[string]string `yaml:"pairs"`
			} `yaml:"failover"`
		}
		if err := yaml.Unmarshal([]byte("failover:\n  pairs: "+tt.pairs+"\n"), &doc); err != nil {
			t.Fatal(err)
		}
		q.Settings.Failover.Pairs = []FailoverPair{}
		for _, m := range doc.Failover.Pairs {
			q.Settings.Failover.Pairs = append(q.Settings.Failover.Pairs, FailoverPair{Primary: m["primary"], Backup: m["backup"]})
		}
		got, err := q.FailoverPairs()
		var cfgErr *Error
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.pairs, err)
		case tt.want == "" && len(got) != len(doc.Failover.Pairs):
			t.Errorf("%s: got %+v", tt.pairs, got)
		case tt.want != "" && (!errors.As(err, &cfgErr) || !strings.Contains(cfgErr.Msg, tt.want) || cfgErr.File != SettingsFile):
			t.Errorf("%s: err = %v, want an acode.yaml error containing %q", tt.pairs, err, tt.want)
		}
	}
}

func TestExample_SettingsFileListsEveryHealthAndFailoverSetting(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(exampleDir(t), SettingsFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Health   map[string]any `yaml:"health"`
		Failover map[string]any `yaml:"failover"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := len(doc.Health), reflect.TypeFor[HealthSettings]().NumField(); got != want {
		t.Errorf("acode.yaml lists %d health settings, HealthSettings has %d fields", got, want)
	}
	// pairs is documented in a comment: its default is inferred from the connections.
	if got, want := len(doc.Failover)+1, reflect.TypeFor[FailoverSettings]().NumField(); got != want {
		t.Errorf("acode.yaml lists %d failover settings (+ pairs), FailoverSettings has %d fields", got-1, want)
	}
	if !strings.Contains(string(data), "#   - {primary: connection_mysql_s3_acode, backup: connection_mysql_s3_acode_backup}") {
		t.Error("acode.yaml does not show the inferred pair")
	}
}

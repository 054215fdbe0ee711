package deploy

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadRules(t *testing.T) map[string]rule {
	t.Helper()
	var f ruleFile
	dec := yaml.NewDecoder(strings.NewReader(string(readFile(t, "monitoring/prometheus-rules.yaml"))))
	dec.KnownFields(true) // a misspelt key is an error, as in promtool
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("prometheus-rules.yaml: %v", err)
	}
	out := map[string]rule{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if _, dup := out[r.Alert]; dup {
				t.Errorf("alert %s defined twice", r.Alert)
			}
			out[r.Alert] = r
		}
	}
	return out
}

func TestPrometheusRules_AreWellFormedAndUseOnlyExportedMetrics(t *testing.T) {
	t.Parallel()
	names := exported(t)
	rules := loadRules(t)
	if len(rules) < 10 {
		t.Fatalf("only %d rules", len(rules))
	}
	for _, r := range rules {
		if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" {
			t.Errorf("rule %+v: alert, expr and a summary are required", r)
		}
		if s := r.Labels["severity"]; s != "warning" && s != "critical" {
			t.Errorf("%s: severity %q, want warning or critical", r.Alert, s)
		}
		if r.For != "" {
			if _, err := time.ParseDuration(r.For); err != nil {
				t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
			}
		}
		if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") {
			t.Errorf("%s: unbalanced parentheses in %q", r.Alert, r.Expr)
		}
		for _, m := range metricNames(r.Expr) {
			if !names[m] {
				t.Errorf("%s uses %s, which acode does not export", r.Alert, m)
			}
		}
	}
}

// The seed's thresholds: freshness 12 h / 24 h, replication lag 5 / 10
// min, sync failing 2 h, both sources down, 3 h maximum sync duration,
// critical for 30 min.
func TestPrometheusRules_CarryTheSeedsThresholds(t *testing.T) {
	t.Parallel()
	rules := loadRules(t)
	for _, want := range []struct {
		alert, expr, forDur, severity string
	}{
		{"ACODEDataStale", "acode_last_success_timestamp_seconds > 12 * 3600", "", "warning"},
		{"ACODEDataStaleCritical", "acode_last_success_timestamp_seconds > 24 * 3600", "", "critical"},
		{"ACODEReplicationLag", "acode_replication_lag_seconds > 300", "10m", "warning"},
		{"ACODEReplicationLagCritical", "acode_replication_lag_seconds > 600", "10m", "critical"},
		{"ACODESyncFailing", "acode_consecutive_failures > 0", "2h", "critical"},
		{"ACODESourcesDown", `acode_source_available{role="backup"}) == 0`, "5m", "critical"},
		{"ACODESyncTooLong", "acode_running_job_seconds > 3 * 3600", "", "warning"},
		{"ACODEHealthCheckCritical", "acode_health_check_status == 2", "30m", "critical"},
	} {
		r, ok := rules[want.alert]
		switch {
		case !ok:
			t.Errorf("no rule %s", want.alert)
		case !strings.Contains(r.Expr, want.expr) || r.For != want.forDur || r.Labels["severity"] != want.severity:
			t.Errorf("%s: expr %q for %q severity %q; want expr with %q for %q severity %q",
				want.alert, r.Expr, r.For, r.Labels["severity"], want.expr, want.forDur, want.severity)
		}
	}
}

type ddMonitor struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Query    string   `json:"query"`
	Message  string   `json:"message"`
	Tags     []string `json:"tags"`
	Priority int      `json:"priority"`
	Options  struct {
		Thresholds map[string]float64 `json:"thresholds"`
	} `json:"options"`
}

// ddMetrics maps DataDog names (acode.<name>) to the Prometheus metric the
// agent's OpenMetrics check renames, from datadog-openmetrics.yaml.
func ddMetrics(t *testing.T) (map[string]string, []map[string]string) {
	t.Helper()
	var conf struct {
		InitConfig any `yaml:"init_config"`
		Instances  []struct {
			Endpoint    string              `yaml:"openmetrics_endpoint"`
			Namespace   string              `yaml:"namespace"`
			MinInterval int                 `yaml:"min_collection_interval"`
			Tags        []string            `yaml:"tags"`
			Metrics     []map[string]string `yaml:"metrics"`
		} `yaml:"instances"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(readFile(t, "monitoring/datadog-openmetrics.yaml"))))
	dec.KnownFields(true)
	if err := dec.Decode(&conf); err != nil {
		t.Fatalf("datadog-openmetrics.yaml: %v", err)
	}
	if len(conf.Instances) != 1 || conf.Instances[0].Namespace != "acode" || !strings.HasSuffix(conf.Instances[0].Endpoint, "/metrics") {
		t.Fatalf("datadog-openmetrics.yaml: want one instance scraping /metrics into namespace acode, got %+v", conf.Instances)
	}
	out := map[string]string{}
	for _, m := range conf.Instances[0].Metrics {
		for prom, dd := range m {
			name := "acode." + dd
			if strings.HasSuffix(prom, "_total") {
				name += ".count" // the check turns counters into .count
			}
			out[name] = prom
		}
	}
	return out, conf.Instances[0].Metrics
}

func TestDataDog_MonitorsQueryScrapedMetricsWithTheSeedsThresholds(t *testing.T) {
	t.Parallel()
	names := exported(t)
	dd, _ := ddMetrics(t)
	for name, prom := range dd {
		if !names[prom] {
			t.Errorf("datadog-openmetrics.yaml maps %s, which acode does not export (as %s)", prom, name)
		}
	}
	var monitors []ddMonitor
	if err := json.Unmarshal(readFile(t, "monitoring/datadog-monitors.json"), &monitors); err != nil {
		t.Fatalf("datadog-monitors.json: %v", err)
	}
	ddName := regexp.MustCompile(`acode\.[a-z_]+(\.count)?`)
	byName := map[string]ddMonitor{}
	for _, m := range monitors {
		byName[m.Name] = m
		if m.Name == "" || m.Query == "" || m.Message == "" || !slices.Contains(m.Tags, "service:acode") {
			t.Errorf("monitor %+v: name, query, message and the service:acode tag are required", m)
		}
		if m.Type != "query alert" && m.Type != "service check" {
			t.Errorf("%s: type %q", m.Name, m.Type)
		}
		if _, ok := m.Options.Thresholds["critical"]; !ok {
			t.Errorf("%s: no critical threshold", m.Name)
		}
		for _, n := range ddName.FindAllString(m.Query, -1) {
			if n == "acode.openmetrics" {
				continue
			}
			if _, ok := dd[n]; !ok && m.Type == "query alert" {
				t.Errorf("%s queries %s, which the OpenMetrics check does not collect", m.Name, n)
			}
		}
	}
	for _, want := range []struct {
		name, query string
		crit, warn  float64
		hasWarn     bool
	}{
		{"ACODE data freshness: last successful sync older than 24 h", "acode.last_success_age_seconds", 86400, 43200, true},
		{"ACODE Backup System Status: replication lag", "acode.replication_lag_seconds", 600, 300, true},
		{"ACODE sync failing for more than 2 hours", "min(last_2h):max:acode.consecutive_failures", 0, 0, false},
		{"ACODE primary and backup both unavailable", "acode.source_available", 1, 0, false},
		{"ACODE sync running longer than 3 hours", "acode.running_job_seconds", 10800, 0, false},
		{"ACODE health check critical for 30 minutes", "min(last_30m)", 2, 0, false},
	} {
		m, ok := byName[want.name]
		if !ok {
			t.Errorf("no monitor %q", want.name)
			continue
		}
		th := m.Options.Thresholds
		if !strings.Contains(m.Query, want.query) || th["critical"] != want.crit || (want.hasWarn && th["warning"] != want.warn) {
			t.Errorf("%s: query %q thresholds %v; want %q critical %v warning %v", want.name, m.Query, th, want.query, want.crit, want.warn)
		}
	}
}

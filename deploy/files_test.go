package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/acode-dev/acode/internal/config"
)

// stopBudget is the least time a supervisor must give acode serve after
// SIGTERM: the default grace for running jobs, then up to 30 s for them to
// record their end and for the listener to close (cmd/acode's recordTimeout).
var stopBudget = config.DefaultSettings("").Serve.ShutdownGrace + 30*time.Second

func TestAirflowDAG_IsValidPythonWithTheSeedsSettings(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 not found: apt-get install -y python3")
	}
	dag := "airflow/dag_sync_connection_mysql_s3_acode.py"
	// Compile to a temp file: no __pycache__ left in the tree.
	cmd := exec.Command(py, "-c", "import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
		dag, filepath.Join(t.TempDir(), "dag.pyc"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("py_compile %s: %v\n%s", dag, err, out)
	}
	src := string(readFile(t, dag))
	for _, want := range []string{
		`dag_id="dag_sync_connection_mysql_s3_acode"`,
		"max_active_runs=1",
		`"retries": 1`,
		`"retry_delay": timedelta(minutes=15)`,
		`"owner": "data-engineering"`,
		"from airflow.providers.airbyte.operators.airbyte import AirbyteTriggerSyncOperator",
		"from airflow.providers.airbyte.sensors.airbyte import AirbyteJobSensor",
		`CONNECTION = "connection_mysql_s3_acode"`,
		"airbyte_job_id=trigger_acode_sync.output",
		"asynchronous=True",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("the DAG lacks %s", want)
		}
	}
}

func TestSystemdUnit_VerifiesAndOutlastsTheShutdownGrace(t *testing.T) {
	t.Parallel()
	unit := string(readFile(t, "systemd/acode.service"))
	keys := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = append(keys[k], v)
		}
	}
	for k, want := range map[string]string{"Restart": "on-failure", "DynamicUser": "yes", "NoNewPrivileges": "yes",
		"EnvironmentFile": "/etc/acode/acode.env", "StateDirectory": "acode", "ProtectSystem": "strict"} {
		if got := keys[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%v, want %s", k, got, want)
		}
	}
	stop, err := time.ParseDuration(strings.Join(keys["TimeoutStopSec"], ""))
	if err != nil || stop <= stopBudget {
		t.Errorf("TimeoutStopSec=%v (%v): must exceed shutdown_grace + 30s = %s", keys["TimeoutStopSec"], err, stopBudget)
	}
	if !strings.Contains(keys["ExecStart"][0], "acode serve") {
		t.Errorf("ExecStart=%s", keys["ExecStart"])
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze not found: apt-get install -y systemd")
	}
	// verify wants the binary to exist: point ExecStart at one that does.
	path := filepath.Join(t.TempDir(), "acode.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/acode", "/bin/true")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	// verify exits 0 on unknown keys and bad values, but says so.
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestContainerfile_MultiStageStaticNonRoot(t *testing.T) {
	t.Parallel()
	cf := string(readFile(t, "container/Containerfile"))
	from := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(cf, -1)
	if len(from) != 2 || !strings.Contains(from[1][1], "distroless") {
		t.Fatalf("want a build stage and a distroless runtime stage, got %v", from)
	}
	goMod := string(readFile(t, "../go.mod"))
	goVer := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(goMod)
	if goVer == nil || !strings.Contains(from[0][1], "golang:"+goVer[1]) {
		t.Errorf("build stage %s does not match go.mod's go %v", from[0][1], goVer)
	}
	user := regexp.MustCompile(`(?m)^USER (\S+)`).FindStringSubmatch(cf)
	if user == nil || strings.HasPrefix(user[1], "0") || strings.HasPrefix(user[1], "root") {
		t.Errorf("runtime user %v: must not be root", user)
	}
	// The build stage downloads modules from go.mod and go.sum alone, before
	// the tree is copied: a local replace would need its directory there
	// (and `go install …@version` refuses any replace).
	if m := regexp.MustCompile(`(?m)^replace\b.*`).FindString(goMod); m != "" {
		t.Errorf("go.mod has %q: go install of the command at a version fails with a replace", m)
	}
	if !regexp.MustCompile(`(?m)^COPY go\.mod go\.sum \./\nRUN go mod download$`).MatchString(cf) {
		t.Errorf("Containerfile does not download modules from go.mod and go.sum before copying the tree")
	}
	for _, want := range []string{"CGO_ENABLED=0", "./cmd/acode", `ENTRYPOINT ["/usr/local/bin/acode"]`, `"serve"`, "EXPOSE 8001"} {
		if !strings.Contains(cf, want) {
			t.Errorf("Containerfile lacks %s", want)
		}
	}
}

// k8s decodes every document of a manifest file.
func k8s(t *testing.T, name string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, filepath.Join("kubernetes", name))))
	var docs []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			if errors.Is(err, io.EOF) {
				return docs
			}
			t.Fatalf("%s: %v", name, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// get walks a decoded document by keys and list indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestKubernetes_OneWriterProbedOnHealthWithTheSeedsResources(t *testing.T) {
	t.Parallel()
	var kust struct {
		Resources []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(readFile(t, "kubernetes/kustomization.yaml"), &kust); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]map[string]any{}
	for _, f := range kust.Resources {
		for _, d := range k8s(t, f) {
			kinds[d["kind"].(string)] = d
		}
	}
	for _, d := range k8s(t, "secret.example.yaml") {
		kinds[d["kind"].(string)] = d
	}
	dep := kinds["Deployment"]
	if dep == nil || kinds["Service"] == nil || kinds["ConfigMap"] == nil || kinds["PersistentVolumeClaim"] == nil || kinds["Secret"] == nil {
		t.Fatalf("want a Deployment, Service, ConfigMap, PVC and Secret; got %v", kinds)
	}
	if get(dep, "spec", "replicas") != 1 || get(dep, "spec", "strategy", "type") != "Recreate" {
		t.Errorf("Deployment: replicas %v strategy %v, want 1 and Recreate (one writer)", get(dep, "spec", "replicas"), get(dep, "spec", "strategy", "type"))
	}
	pod := get(dep, "spec", "template", "spec")
	c := get(pod, "containers", 0)
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		if get(c, probe, "httpGet", "path") != "/api/v1/health" {
			t.Errorf("%s: %v, want GET /api/v1/health", probe, get(c, probe))
		}
	}
	for path, want := range map[string]string{"requests.cpu": "1.0", "requests.memory": "2Gi", "limits.cpu": "2.0", "limits.memory": "4Gi"} {
		k := strings.Split(path, ".")
		if got := get(c, "resources", k[0], k[1]); got != want {
			t.Errorf("resources.%s = %v, want the seed's %s", path, got, want)
		}
	}
	if get(c, "envFrom", 0, "secretRef", "name") != get(kinds["Secret"], "metadata", "name") {
		t.Errorf("the container does not take its environment from the Secret")
	}
	if get(pod, "securityContext", "runAsNonRoot") != true || get(c, "securityContext", "readOnlyRootFilesystem") != true {
		t.Errorf("the pod must run as non-root on a read-only root filesystem")
	}
	if g, ok := get(pod, "terminationGracePeriodSeconds").(int); !ok || time.Duration(g)*time.Second <= stopBudget {
		t.Errorf("terminationGracePeriodSeconds %v: must exceed shutdown_grace + 30s = %s", get(pod, "terminationGracePeriodSeconds"), stopBudget)
	}
	claims := map[string]bool{}
	for _, v := range get(pod, "volumes").([]any) {
		if n, ok := get(v, "persistentVolumeClaim", "claimName").(string); ok {
			claims[n] = true
		}
	}
	if !claims[get(kinds["PersistentVolumeClaim"], "metadata", "name").(string)] {
		t.Errorf("the state PVC is not mounted")
	}
	if get(kinds["Service"], "spec", "ports", 0, "port") != 8001 {
		t.Errorf("Service port %v, want 8001 (Airbyte's)", get(kinds["Service"], "spec", "ports", 0, "port"))
	}

	// The DataDog annotation collects exactly what datadog-openmetrics.yaml does.
	ann, _ := get(dep, "spec", "template", "metadata", "annotations", "ad.datadoghq.com/acode.checks").(string)
	var checks struct {
		OpenMetrics struct {
			Instances []struct {
				Metrics []map[string]string `json:"metrics"`
			} `json:"instances"`
		} `json:"openmetrics"`
	}
	if err := json.Unmarshal([]byte(ann), &checks); err != nil || len(checks.OpenMetrics.Instances) != 1 {
		t.Fatalf("DataDog annotation %q: %v", ann, err)
	}
	_, list := ddMetrics(t)
	got, _ := json.Marshal(checks.OpenMetrics.Instances[0].Metrics)
	want, _ := json.Marshal(list)
	if !bytes.Equal(got, want) {
		t.Errorf("DataDog annotation metrics\n%s\ndiffer from datadog-openmetrics.yaml\n%s", got, want)
	}
}

// The ConfigMap's project is the example's files (the seed's, unchanged)
// at the paths the Deployment mounts, and loads as a valid project.
func TestKubernetes_ConfigMapIsTheExampleProjectAndLoads(t *testing.T) {
	t.Parallel()
	cm := k8s(t, "configmap.yaml")[0]
	data := get(cm, "data").(map[string]any)
	dep := k8s(t, "deployment.yaml")[0]
	var vol any
	for _, v := range get(dep, "spec", "template", "spec", "volumes").([]any) {
		if get(v, "configMap", "name") == get(cm, "metadata", "name") {
			vol = v
		}
	}
	items, _ := get(vol, "configMap", "items").([]any)
	if len(items) != len(data) {
		t.Fatalf("the Deployment mounts %d of the ConfigMap's %d keys", len(items), len(data))
	}
	dir := t.TempDir()
	trailing := regexp.MustCompile(`(?m)[ \t]+$`)
	for _, it := range items {
		key, path := get(it, "key").(string), get(it, "path").(string)
		body, ok := data[key].(string)
		if !ok {
			t.Fatalf("item %s: no such key", key)
		}
		if path != "acode.yaml" {
			example := string(readFile(t, filepath.Join("..", "examples", "acode-project", path)))
			if trailing.ReplaceAllString(example, "") != trailing.ReplaceAllString(body, "") {
				t.Errorf("%s differs from examples/acode-project/%s", key, path)
			}
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, path), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{}
	for _, d := range k8s(t, "secret.example.yaml") {
		for k, v := range get(d, "stringData").(map[string]any) {
			env[k] = v.(string)
		}
	}
	p, err := config.Load(dir, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("the ConfigMap's project does not load with the Secret's variables: %v", err)
	}
	s := p.Settings
	if s.StateDB != "/var/lib/acode/state.db" || s.Serve.Listen != "0.0.0.0:8001" || s.Serve.Auth != config.AuthRequired {
		t.Errorf("acode.yaml: state_db %s listen %s auth %s; want the PVC, all interfaces, auth required", s.StateDB, s.Serve.Listen, s.Serve.Auth)
	}
	if pairs, err := p.FailoverPairs(); err != nil || len(pairs) != 1 {
		t.Errorf("failover pairs %v %v, want the primary and its backup", pairs, err)
	}
}

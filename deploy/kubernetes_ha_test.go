package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/acode-dev/acode/internal/config"
)

// TestKubernetesHA_RendersSeveralReplicasOnPostgresWithADisruptionBudget
// renders deploy/kubernetes-ha with kubectl's kustomize and checks what a
// cluster would get: no volume claim (the state is in PostgreSQL), 2+
// replicas rolled one at a time, a PodDisruptionBudget over the pods that
// keeps one of them, and a project that loads with state_db on PostgreSQL
// and its scratch on a writable volume.
func TestKubernetesHA_RendersSeveralReplicasOnPostgresWithADisruptionBudget(t *testing.T) {
	t.Parallel()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatal("kubectl not found: install it (Debian: kubernetes-client) to render the kustomization")
	}
	out, err := exec.Command(kubectl, "kustomize", filepath.Join("kubernetes-ha")).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize kubernetes-ha: %v\n%s", err, out)
	}
	kinds := map[string]map[string]any{}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var d map[string]any
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		kinds[d["kind"].(string)] = d
	}
	if kinds["PersistentVolumeClaim"] != nil {
		t.Error("the HA layout still claims a volume for a SQLite file")
	}
	dep, pdb := kinds["Deployment"], kinds["PodDisruptionBudget"]
	if dep == nil || pdb == nil || kinds["Service"] == nil || kinds["ConfigMap"] == nil {
		t.Fatalf("want a Deployment, PodDisruptionBudget, Service and ConfigMap; got %v", kinds)
	}
	replicas, _ := get(dep, "spec", "replicas").(int)
	if replicas < 2 || get(dep, "spec", "strategy", "type") != "RollingUpdate" || get(dep, "spec", "strategy", "rollingUpdate", "maxUnavailable") != 1 {
		t.Errorf("Deployment: %d replicas, strategy %v; want 2+ replaced one at a time", replicas, get(dep, "spec", "strategy"))
	}
	min, _ := get(pdb, "spec", "minAvailable").(int)
	if min < 1 || min >= replicas {
		t.Errorf("PodDisruptionBudget minAvailable %d with %d replicas: want at least one kept and one drainable", min, replicas)
	}
	podLabels := get(dep, "spec", "template", "metadata", "labels").(map[string]any)
	for k, v := range get(pdb, "spec", "selector", "matchLabels").(map[string]any) {
		if podLabels[k] != v {
			t.Errorf("PodDisruptionBudget selects %s=%v, which the pods do not carry", k, v)
		}
	}
	pod := get(dep, "spec", "template", "spec")
	mounts := map[string]string{}
	for _, m := range get(pod, "containers", 0, "volumeMounts").([]any) {
		mounts[get(m, "name").(string)] = get(m, "mountPath").(string)
	}
	for _, v := range get(pod, "volumes").([]any) {
		if get(v, "persistentVolumeClaim") != nil {
			t.Errorf("volume %v still mounts a claim", get(v, "name"))
		}
	}

	cm := kinds["ConfigMap"]
	dir := t.TempDir()
	for _, v := range get(pod, "volumes").([]any) {
		items, _ := get(v, "configMap", "items").([]any)
		for _, it := range items {
			key, path := get(it, "key").(string), get(it, "path").(string)
			body, _ := get(cm, "data", key).(string)
			if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, path), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
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
		t.Fatalf("the HA project does not load with the Secret's variables: %v", err)
	}
	s := p.Settings
	if !strings.HasPrefix(s.StateDB, "postgres://acode:"+env["ACODE_PG_PASSWORD"]+"@") {
		t.Errorf("state_db is not the PostgreSQL URL with the Secret's password")
	}
	if !strings.HasPrefix(s.Sync.SpoolDir, mounts["state"]+"/") {
		t.Errorf("spool_dir %s is not on the writable scratch volume %s", s.Sync.SpoolDir, mounts["state"])
	}
}

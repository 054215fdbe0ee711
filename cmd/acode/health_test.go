package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/acode-dev/acode/internal/testenv"
)

// replicatedProject is the example project on a fresh primary with a real
// binlog replica behind the backup source, and a versitygw bucket.
func replicatedProject(t *testing.T) (*testenv.Project, *testenv.MariaDB) {
	t.Helper()
	primary := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	replica := testenv.StartReplica(t, primary)
	db := "acode_" + strconv.Itoa(primary.Port)
	primary.Exec(t, "CREATE DATABASE "+db,
		"CREATE TABLE "+db+".farmarcas_si_analitico_diario (idpk INT PRIMARY KEY, Data_Processamento DATE)",
		"INSERT INTO "+db+".farmarcas_si_analitico_diario VALUES (1, UTC_DATE())")
	p := testenv.NewProject(t, primary, db, testenv.StartS3(t))
	primary.Exec(t, "GRANT SLAVE MONITOR ON *.* TO 'userfarmarcasac02'@'%'")
	p.Edit(t, "sources/source_mysql_acode_backup/configuration.yaml", "port: 3306", "port: "+strconv.Itoa(replica.Port))
	replica.WaitReplicaCaughtUp(t, primary)
	return p, primary
}

type healthJSON struct {
	Status  string `json:"status"`
	Results []struct {
		Check   string `json:"check"`
		Target  string `json:"target"`
		Status  string `json:"status"`
		Class   string `json:"class"`
		Message string `json:"message"`
	} `json:"results"`
}

func (h healthJSON) find(check, target string) (status, class string) {
	for _, r := range h.Results {
		if r.Check == check && r.Target == target {
			return r.Status, r.Class
		}
	}
	return "", ""
}

func TestCLI_HealthStatusFailoverFailback(t *testing.T) {
	t.Parallel()
	p, primary := replicatedProject(t)

	out, stderr, code := acode(t, p, "health", "--json")
	var h healthJSON
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("health --json: %v\n%s\n%s", err, out, stderr)
	}
	// Nothing synced yet: warnings, exit 1.
	if code != 1 || h.Status != "warning" {
		t.Errorf("health on a fresh project: exit %d status %s\n%s", code, h.Status, out)
	}
	for _, c := range [][2]string{{"mysql_connectivity", "source_mysql_acode"}, {"mysql_connectivity", "source_mysql_acode_backup"},
		{"replication_lag", "source_mysql_acode_backup"}, {"data_freshness", "source_mysql_acode"}} {
		if st, _ := h.find(c[0], c[1]); st != "ok" {
			t.Errorf("%s %s = %q, want ok", c[0], c[1], st)
		}
	}
	table, _, _ := acode(t, p, "health")
	if !strings.Contains(table, "CHECK") || !strings.Contains(table, "replication_lag") {
		t.Errorf("health table:\n%s", table)
	}

	out, stderr, code = acode(t, p, "status")
	if code != 0 || !strings.Contains(out, "state:    primary_active") ||
		!strings.Contains(out, "sync now: connection_mysql_s3_acode (primary)") ||
		!strings.Contains(out, "backup:   replicating, 0s behind") {
		t.Errorf("status: exit %d\n%s%s", code, out, stderr)
	}

	out, stderr, code = acode(t, p, "failover", "--reason", "failure drill")
	if code != 0 || !strings.Contains(out, "primary_active -> backup_active by cli:") ||
		!strings.Contains(out, "next sync reads connection_mysql_s3_acode_backup (backup)") {
		t.Errorf("failover: exit %d\n%s%s", code, out, stderr)
	}

	primary.Kill(t)
	out, _, code = acode(t, p, "health", "--json")
	h = healthJSON{}
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatal(err)
	}
	if st, class := h.find("mysql_connectivity", "source_mysql_acode"); code != 2 || h.Status != "critical" ||
		st != "critical" || class != "primary_db_down" {
		t.Errorf("health with the primary killed: exit %d, %s %s/%s", code, h.Status, st, class)
	}

	out, _, code = acode(t, p, "status", "--json")
	var rep struct {
		Pairs []struct {
			State struct {
				State  string `json:"State"`
				Manual bool   `json:"Manual"`
			} `json:"state"`
			Transitions []struct {
				Who, Reason, To string
			} `json:"transitions"`
		} `json:"pairs"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("status --json: %v, exit %d\n%s", err, code, out)
	}
	ps := rep.Pairs
	if len(ps) != 1 || ps[0].State.State != "backup_active" || !ps[0].State.Manual || len(ps[0].Transitions) != 1 ||
		!strings.HasPrefix(ps[0].Transitions[0].Who, "cli:") || ps[0].Transitions[0].Reason != "failure drill" {
		t.Errorf("status --json: %+v", ps)
	}

	out, stderr, code = acode(t, p, "failback", "connection_mysql_s3_acode", "--reason", "drill over")
	if code != 0 || !strings.Contains(out, "backup_active -> primary_active") || !strings.Contains(out, "reconcile due for: ") {
		t.Errorf("failback: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code = acode(t, p, "failover", "connection_nope"); code != exitConfig || !strings.Contains(stderr, "in no failover pair") {
		t.Errorf("failover of an unknown connection: exit %d %s", code, stderr)
	}
	if strings.Contains(out+stderr, testenv.ProjectPassword) {
		t.Error("password in output")
	}
}

func TestCLI_HealthLoopFailsOverWhenThePrimaryIsKilled(t *testing.T) {
	t.Parallel()
	p, primary := replicatedProject(t)
	if _, _, code := acode(t, p, "health"); code != 1 { // measures the replica while the primary is up
		t.Fatalf("first health: exit %d", code)
	}
	primary.Kill(t)
	out, stderr, code := acode(t, p, "health")
	if code != 2 || !strings.Contains(out, "TRANSITION primary_active -> backup_active: primary_db_down on the primary") ||
		!strings.Contains(out, "sync now: connection_mysql_s3_acode_backup (backup)") || !strings.Contains(out, "ALERT critical") {
		t.Errorf("health after kill -9 of the primary: exit %d\n%s%s", code, out, stderr)
	}
	out, _, _ = acode(t, p, "status")
	if !strings.Contains(out, "state:    backup_active") || !strings.Contains(out, "by auto") {
		t.Errorf("status after the automatic failover:\n%s", out)
	}
}

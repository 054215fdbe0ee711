package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/testenv"
)

// rotatingProject is a failover pair whose primary source logs in as its
// own account with the password in a file (${file:secrets/acode_pass}),
// while the backup keeps the seed's account: a failover would show as a
// job on the backup connection.
func rotatingProject(t *testing.T, settings string) (*testenv.Project, *testenv.MariaDB, string) {
	t.Helper()
	p, primary, _ := pairProject(t, 400, settings)
	primary.Exec(t, "CREATE USER 'rotuser'@'%' IDENTIFIED BY 'rot-Pass-1'",
		"GRANT SELECT, SHOW VIEW, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'rotuser'@'%'")
	secret := filepath.Join(p.Dir, "secrets", "acode_pass")
	writeSecretFile(t, secret, "rot-Pass-1")
	p.Edit(t, "sources/source_mysql_acode/configuration.yaml",
		"username: userfarmarcasac02", "username: rotuser",
		"password: ${ACODE_PASS}", "password: ${file:secrets/acode_pass}")
	return p, primary, secret
}

func writeSecretFile(t *testing.T, path, v string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(v+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil { // as a secret mount or vault agent does
		t.Fatal(err)
	}
}

// syncViaAirflow triggers the primary connection as Airflow does and waits
// for the job's end; it returns the job that ran last in its chain.
func syncViaAirflow(t *testing.T, p *testenv.Project, sp *serveProcess, st *state.Store) state.Job {
	t.Helper()
	conn, err := loadConnectionID(p, "connection_mysql_s3_acode")
	if err != nil {
		t.Fatal(err)
	}
	code, body := sp.post(t, "connections/sync", map[string]any{"connectionId": conn})
	if code != 200 {
		t.Fatalf("trigger: %d %v\n%s", code, body, sp.stderr)
	}
	id := int64(jobField(body, "id").(float64))
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, body = sp.post(t, "jobs/get", map[string]any{"id": id})
		if s := jobField(body, "status"); s == "succeeded" || s == "failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d did not end in 90s: %v\n%s", id, body, sp.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	j, err := st.Job(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestServe_RotatedPasswordIsPickedUpWithoutRestartOrFailover(t *testing.T) {
	t.Parallel()
	// No health round runs during the test (the first one is an hour
	// away): only the jobs below log in, so each rotation is seen by a job.
	p, primary, secret := rotatingProject(t, fmt.Sprintf(pairSettings, "")+"serve:\n  job_attempts: 1\n")
	replaceInFile(t, filepath.Join(p.Dir, "acode.yaml"), "interval: 1s", "interval: 1h")
	sp := startServe(t, p)
	st, err := state.Open(context.Background(), filepath.Join(p.Dir, ".acode", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	onPrimary := func(what string) {
		t.Helper()
		j := syncViaAirflow(t, p, sp, st)
		if j.Status != state.JobSucceeded || j.Connection != "connection_mysql_s3_acode" || j.Source != "primary" || j.ContinuedBy != 0 {
			t.Fatalf("%s: job %+v, want succeeded on the primary without a continuation\n%s", what, j, sp.stderr)
		}
	}
	onPrimary("before any rotation")

	// Rotation announced with SIGHUP.
	primary.Exec(t, "ALTER USER 'rotuser'@'%' IDENTIFIED BY 'rot-Pass-2'")
	writeSecretFile(t, secret, "rot-Pass-2")
	if err := sp.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, sp, "SIGHUP: secrets reloaded", "source_mysql_acode password")
	onPrimary("after a rotation and SIGHUP")

	// Rotation nobody announced: the refused login reads the file again
	// before it counts as an authentication failure.
	primary.Exec(t, "ALTER USER 'rotuser'@'%' IDENTIFIED BY 'rot-Pass-3'")
	writeSecretFile(t, secret, "rot-Pass-3")
	onPrimary("after a rotation without SIGHUP")

	fs, err := st.FailoverState(context.Background(), "connection_mysql_s3_acode")
	if err != nil || fs.State != "primary_active" {
		t.Errorf("failover state %+v, %v; want primary_active", fs, err)
	}
	if trs, err := st.FailoverTransitions(context.Background(), "connection_mysql_s3_acode", 5); err != nil || len(trs) != 0 {
		t.Errorf("transitions %+v, %v; want none", trs, err)
	}
	if sp.cmd.ProcessState != nil {
		t.Fatal("serve exited on SIGHUP")
	}
	logs := sp.stderr.String()
	for _, s := range []string{"rot-Pass-1", "rot-Pass-2", "rot-Pass-3"} {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds the password %q", s)
		}
	}
}

func TestServe_ExpiredPasswordRaisesItsOwnAlertNamingTheAccount(t *testing.T) {
	t.Parallel()
	p, primary, _ := rotatingProject(t, fmt.Sprintf(pairSettings, ""))
	recv := newHookReceiver(t)
	p.Env["ACODE_ALERT_WEBHOOK_URL"] = recv.srv.URL + "/hook"
	primary.Exec(t, "ALTER USER 'rotuser'@'%' PASSWORD EXPIRE")
	sp := startServe(t, p)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var found map[string]any
		for _, a := range recv.at("/hook") {
			if a["condition"] == "password_expired/source_mysql_acode" {
				found = a
			}
		}
		if found != nil {
			if found["severity"] != "critical" || !strings.Contains(fmt.Sprint(found["title"]), "'rotuser'") ||
				!strings.Contains(fmt.Sprint(found["action"]), "ALTER USER 'rotuser' IDENTIFIED BY") ||
				!strings.Contains(fmt.Sprint(found["action"]), "SIGHUP") {
				t.Errorf("alert %v: want critical, naming 'rotuser' and the remedy", found)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no password_expired alert in 30s; webhook got %v\n%s", recv.at("/hook"), sp.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitLog(t *testing.T, sp *serveProcess, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, line := range strings.Split(sp.stderr.String(), "\n") {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(line, p)
			}
			if ok {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q in 20s:\n%s", parts, sp.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func replaceInFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(data), old) {
		t.Fatalf("%s: %q not found (%v)", path, old, err)
	}
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(data), old, new)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCLI_CheckCredentialsReportsPasswordAgeAndLifetime(t *testing.T) {
	t.Parallel()
	m := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	m.Exec(t, "CREATE DATABASE acode_cred")
	p := testenv.NewProject(t, m, "acode_cred", nil)
	p.PointBackup(t, m)
	m.Exec(t, "CREATE USER 'credlife'@'%' IDENTIFIED BY 'cred-Pass-1' PASSWORD EXPIRE INTERVAL 90 DAY",
		"GRANT SELECT ON *.* TO 'credlife'@'%'")
	writeSecretFile(t, filepath.Join(p.Dir, "secrets", "pass"), "cred-Pass-1")
	p.Edit(t, "sources/source_mysql_acode/configuration.yaml",
		"username: userfarmarcasac02", "username: credlife", "password: ${ACODE_PASS}", "password: ${file:secrets/pass}")
	m.Exec(t, "ALTER USER 'userfarmarcasac02'@'%' PASSWORD EXPIRE")

	out, errOut, code := acode(t, p, "check", "--credentials", "--json")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d (the backup's password expired)\n%s\n%s", code, exitFailed, out, errOut)
	}
	var rep struct {
		OK      bool `json:"ok"`
		Sources []struct {
			Source   string `json:"source"`
			Password struct {
				Account      string `json:"account"`
				Exposed      bool   `json:"exposed"`
				LastChanged  string `json:"password_last_changed"`
				LifetimeDays *int   `json:"password_lifetime_days"`
				Expired      bool   `json:"expired"`
			} `json:"password"`
			AgeDays       *int `json:"age_days"`
			ExpiresInDays *int `json:"expires_in_days"`
		} `json:"sources"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.OK || len(rep.Sources) != 2 {
		t.Fatalf("report %+v", rep)
	}
	prim, back := rep.Sources[0], rep.Sources[1]
	if prim.Source != "source_mysql_acode" || prim.Password.Account != "'credlife'@'%'" || !prim.Password.Exposed ||
		prim.Password.LifetimeDays == nil || *prim.Password.LifetimeDays != 90 || prim.AgeDays == nil || *prim.AgeDays != 0 ||
		prim.ExpiresInDays == nil || *prim.ExpiresInDays < 89 || prim.Password.Expired {
		t.Errorf("primary: %+v (age %v, expires in %v)", prim.Password, prim.AgeDays, prim.ExpiresInDays)
	}
	if changed, err := time.Parse(time.RFC3339, prim.Password.LastChanged); err != nil || time.Since(changed) > time.Hour {
		t.Errorf("password_last_changed %q: %v", prim.Password.LastChanged, err)
	}
	if back.Source != "source_mysql_acode_backup" || !back.Password.Expired {
		t.Errorf("backup: %+v, want expired", back)
	}
	text, _, _ := acode(t, p, "check", "--credentials")
	for _, want := range []string{"'credlife'@'%'", "90 d (own)", "EXPIRED", "ALTER USER"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
}

// An AWS secret key rotated on the server before its file: the sync is
// refused by versitygw (its signature check); the file is rewritten and
// serve told with SIGHUP: the next sync succeeds, without a restart.
func TestServe_RotatedAWSKeyIsPickedUpOnSIGHUPWithoutRestart(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 200, s3)
	secret := filepath.Join(p.Dir, "secrets", "aws_secret")
	writeSecretFile(t, secret, "the-old-secret-key")
	p.Edit(t, "destinations/destination_s3_acode/configuration.yaml",
		"secret_access_key: ${FARMARCAS_AWS_SECRET_ACCESS_KEY}", "secret_access_key: ${file:secrets/aws_secret}")
	appendYAML(t, p, "serve:\n  job_attempts: 1\njobs:\n  retries: 0\n")
	sp := startServe(t, p)
	st, err := state.Open(context.Background(), filepath.Join(p.Dir, ".acode", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if j := syncViaAirflow(t, p, sp, st); j.Status != state.JobFailed {
		t.Fatalf("with the old key: job %+v, want failed\n%s", j, sp.stderr)
	}
	writeSecretFile(t, secret, s3.SecretKey)
	if err := sp.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, sp, "SIGHUP: secrets reloaded", "destination_s3_acode")
	if j := syncViaAirflow(t, p, sp, st); j.Status != state.JobSucceeded || j.Connection != "connection_mysql_s3_acode" || j.Source != "primary" {
		t.Fatalf("after the rotation and SIGHUP: job %+v, want succeeded\n%s", j, sp.stderr)
	}
	if sp.cmd.ProcessState != nil {
		t.Fatal("serve exited")
	}
	if logs := sp.stderr.String(); strings.Contains(logs, "the-old-secret-key") || strings.Contains(logs, s3.SecretKey) {
		t.Error("the log holds a secret key")
	}
}

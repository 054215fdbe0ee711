package testenv

import (
	"errors"
	"testing"

	"github.com/acode-dev/acode/internal/mysqldriver"
)

func TestMariaDB_ReplicaSeesPrimaryRows(t *testing.T) {
	t.Parallel()
	primary := StartMariaDB(t, MariaDBOptions{})
	replica := StartReplica(t, primary)
	primary.Exec(t, "CREATE DATABASE r", "CREATE TABLE r.t (id INT PRIMARY KEY, v VARCHAR(10))",
		"INSERT INTO r.t VALUES (1,'one'),(2,'two')")
	replica.WaitReplicaCaughtUp(t, primary)
	var n int
	if err := replica.Root(t).QueryRow("SELECT COUNT(*) FROM r.t").Scan(&n); err != nil {
		t.Fatalf("count on replica: %v", err)
	}
	if n != 2 {
		t.Fatalf("replica has %d rows, want 2", n)
	}
	var ro int
	if err := replica.Root(t).QueryRow("SELECT @@read_only").Scan(&ro); err != nil || ro != 1 {
		t.Fatalf("replica read_only = %d (%v), want 1", ro, err)
	}
}

func TestMariaDB_KillThenRestartKeepsData(t *testing.T) {
	t.Parallel()
	m := StartMariaDB(t, MariaDBOptions{})
	m.Exec(t, "CREATE DATABASE k", "CREATE TABLE k.t (id INT PRIMARY KEY)", "INSERT INTO k.t VALUES (7)")
	port := m.Port

	m.Kill(t)
	db, err := mysqldriver.OpenDSN(m.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err == nil {
		t.Fatalf("ping succeeded after Kill")
	}

	m.Restart(t)
	if m.Port != port {
		t.Fatalf("port changed across restart: %d -> %d", port, m.Port)
	}
	var id int
	if err := db.QueryRow("SELECT id FROM k.t").Scan(&id); err != nil || id != 7 {
		t.Fatalf("after restart: id=%d err=%v, want 7", id, err)
	}
}

func TestMariaDB_TLSRequireSSLUser(t *testing.T) {
	t.Parallel()
	m := StartMariaDB(t, MariaDBOptions{TLS: true})
	if m.CACertPEM == "" {
		t.Fatal("no CA certificate for a TLS instance")
	}
	var haveSSL string
	if err := m.Root(t).QueryRow("SELECT @@have_ssl").Scan(&haveSSL); err != nil || haveSSL != "YES" {
		t.Fatalf("@@have_ssl = %q (%v), want YES", haveSSL, err)
	}
	m.CreateUser(t, "secure", "pw", true)
	cfg := mysqldriver.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "secure", "pw", "tcp", m.Addr()
	db, err := mysqldriver.OpenDSN(cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Ping()
	var me *mysqldriver.MySQLError
	if !errors.As(err, &me) || me.Number != 1045 {
		t.Fatalf("plain connection of a REQUIRE SSL user: err=%v, want MySQL 1045", err)
	}
}

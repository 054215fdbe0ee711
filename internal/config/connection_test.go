package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestConnection_IDFromOctaviaStateFile(t *testing.T) {
	t.Parallel()
	const id = "8f0c6f52-2a1e-4b8e-9a8c-0d7b1e2f3a4b"
	dir := writeProject(t, edit{"connections/conn/state_0a1b2c3d.yaml", "",
		"configuration_hash: abc\nconfiguration_path: connections/conn/configuration.yaml\nresource_id: " + id + "\nworkspace_id: w\n"})
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Connections["conn"].ID; got != id {
		t.Errorf("ID = %q, want resource_id %q", got, id)
	}
	if c, err := p.Connection(id); err != nil || c.ResourceName != "conn" {
		t.Errorf("Connection(id) = %v, %v", c, err)
	}
}

func TestConnection_IDWithoutStateIsStableUUID(t *testing.T) {
	t.Parallel()
	p1, err := Load(writeProject(t), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := Load(writeProject(t), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	id := p1.Connections["conn"].ID
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 5 {
		t.Errorf("ID %q is not a UUIDv5 (%v)", id, err)
	}
	if p2.Connections["conn"].ID != id {
		t.Errorf("ID changes between loads: %q vs %q", id, p2.Connections["conn"].ID)
	}
	renamed := writeProject(t, edit{connFile, "resource_name: conn", "resource_name: conn2"})
	p3, err := Load(renamed, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if p3.Connections["conn2"].ID == id {
		t.Error("two connection names share one ID")
	}
}

func TestProject_UnknownConnectionListsKnownNames(t *testing.T) {
	t.Parallel()
	p, err := Load(writeProject(t, edit{"connections/other/configuration.yaml", "",
		strings.Replace(minimal[connFile], "resource_name: conn", "resource_name: other", 1)}), minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Connection("connection_mysql_s3_acod")
	if !errors.Is(err, ErrUnknownConnection) {
		t.Fatalf("err = %v, want ErrUnknownConnection", err)
	}
	if !strings.Contains(err.Error(), "known: conn, other") {
		t.Errorf("error does not list the known names: %v", err)
	}
}

func TestConnection_ScheduleAndStreams(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{connFile, "", `resource_name: conn
source_configuration_path: sources/src/configuration.yaml
destination_configuration_path: destinations/dst/configuration.yaml
configuration:
  status: inactive
  schedule_type: cron
  schedule_data:
    cron:
      cron_expression: "0 0 2 * * ?"
      cron_time_zone: America/Sao_Paulo
  sync_catalog:
    streams:
      - config:
          sync_mode: incremental
          cursor_field: [Data_Processamento]
          destination_sync_mode: append_dedup
          selected: true
        stream:
          name: t1
          namespace: acode
          source_defined_primary_key: [[idpk]]
      - config:
          selected: false
        stream:
          name: t2
          namespace: acode
`})
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Connections["conn"]
	if c.Status != "inactive" || c.ScheduleType != "cron" ||
		c.Schedule != (ScheduleData{CronExpression: "0 0 2 * * ?", CronTimeZone: "America/Sao_Paulo"}) {
		t.Errorf("status %q schedule %q %+v", c.Status, c.ScheduleType, c.Schedule)
	}
	want := []Stream{{
		Name: "t1", Namespace: "acode", AliasName: "t1", SyncMode: SyncIncremental,
		DestinationSyncMode: DestAppendDedup, CursorField: []string{"Data_Processamento"},
		PrimaryKey: [][]string{{"idpk"}}, Selected: true,
	}}
	if got := c.SelectedStreams(); !reflect.DeepEqual(got, want) {
		t.Errorf("selected streams:\n got %+v\nwant %+v", got, want)
	}
	if len(c.Streams) != 2 || c.Streams[1].Selected {
		t.Errorf("streams: %+v", c.Streams)
	}
}

func TestConnection_BasicScheduleNeedsItsData(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{connFile, "configuration:\n", "configuration:\n  schedule_type: basic\n"})
	_, err := Load(dir, minimalEnv)
	errs := Errors(err)
	if len(errs) != 1 || errs[0].Key != "schedule_data" || errs[0].Line != 5 {
		t.Errorf("want one schedule_data error at line 5, got %v", err)
	}

	dir = writeProject(t, edit{connFile, "configuration:\n",
		"configuration:\n  schedule_type: basic\n  schedule_data:\n    basic_schedule:\n      time_unit: hours\n      units: 24\n"})
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Connections["conn"].Schedule; got != (ScheduleData{BasicUnits: 24, BasicTimeUnit: "hours"}) {
		t.Errorf("schedule = %+v", got)
	}
}

func TestLoad_ConnectionMayPointOutsideTheStandardDirs(t *testing.T) {
	t.Parallel()
	dir := writeProject(t, edit{connFile, "sources/src/configuration.yaml", "shared/mysql.yaml"})
	if err := os.MkdirAll(filepath.Join(dir, "shared"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, srcFile), filepath.Join(dir, "shared", "mysql.yaml")); err != nil {
		t.Fatal(err)
	}
	p, err := Load(dir, minimalEnv)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Connections["conn"].Source; s == nil || s.ResourceName != "src" || p.Sources["src"] != s {
		t.Errorf("source = %+v", s)
	}
}

func TestLoad_NotAProjectDir(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "missing"), minimalEnv)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	_, err = Load(t.TempDir(), minimalEnv)
	if err == nil || !strings.Contains(err.Error(), "no connections/*/configuration.yaml") {
		t.Errorf("empty dir: err = %v", err)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acode-dev/acode/internal/archive"
	"github.com/acode-dev/acode/internal/config"
	"github.com/acode-dev/acode/internal/state"
	"github.com/acode-dev/acode/internal/storage"
	"github.com/acode-dev/acode/internal/testenv"
)

// A monthly care that fails half-way (the last stream's copy differs from
// its checksum, as a crash mid-copy would leave it) records no month; the
// next run finishes it: the streams archived before are left alone, the
// config backup is the same one object, each stream has one archive.
func TestMonthlyCare_AFailureHalfWayIsRerunWithoutDuplicates(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 400, s3)
	out, errOut, code := acode(t, p, "sync", "--json", "connection_mysql_s3_acode")
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, errOut)
	}
	var r syncJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	proj, err := config.Load(p.Dir, p.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := state.Open(ctx, proj.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	streams := proj.Connections["connection_mysql_s3_acode"].SelectedStreams()
	last := streams[len(streams)-1].Name
	var part string
	for _, s := range r.Streams {
		if s.Name == last {
			part = s3.ObjectPath(p.Bucket, s.Files[0])
		}
	}
	good, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0xff
	if err := os.WriteFile(part, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	next := time.Date(now.Year(), now.Month()+1, 1, 0, 30, 0, 0, time.UTC)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	err = monthlyCare(ctx, log, proj, st, next)
	if err == nil || !strings.Contains(err.Error(), "archive of connection connection_mysql_s3_acode (destination destination_s3_acode)") {
		t.Fatalf("half-way run: %v, want the archive's failure naming the connection and destination", err)
	}
	if _, err := st.ScheduleFire(ctx, monthlyCareSchedule); err == nil {
		t.Fatal("the month was recorded done after a failed archive")
	}
	if err := os.WriteFile(part, good, 0o644); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	if err := monthlyCare(ctx, log, proj, st, next.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, s := range streams {
		did := `did="already archived"`
		if s.Name == last {
			did = "did=archived"
		}
		if !strings.Contains(logs.String(), "stream="+s.Name+" month="+now.Format("2006-01")+" "+did) {
			t.Errorf("rerun: %s not %s:\n%s", s.Name, did, logs.String())
		}
	}
	if at, err := st.ScheduleFire(ctx, monthlyCareSchedule); err != nil || !at.Equal(time.Date(next.Year(), next.Month(), 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("recorded month %v, %v", at, err)
	}
	a, err := openArchiver(ctx, proj, proj.Connections["connection_mysql_s3_acode"], "", nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := archive.List(ctx, a.ArchiveStore(), a.Prefix)
	if err != nil || len(entries) != len(streams) {
		t.Errorf("archives %+v, %v; want one per stream", entries, err)
	}
	var keys []string
	a.ArchiveStore().List(ctx, a.Prefix+"/", func(o storage.ObjectInfo) error { keys = append(keys, o.Key); return nil })
	for _, k := range keys {
		if strings.Contains(k, "/.staging/") {
			t.Errorf("staging left: %s", k)
		}
	}
	backups := countFiles(filepath.Join(s3.Dir, p.Bucket, filepath.FromSlash(configBackupPrefix)))
	if backups != 1 {
		t.Errorf("%d config backups, want the one", backups)
	}
}

// A destination that takes connections and never answers holds the
// monthly care only: the weekly table sizes, in the same duty loop's
// neighbour, are recorded meanwhile, and stopping returns at once.
func TestMonthlyCare_AnUnansweringDestinationDelaysNoOtherDuty(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	p := seededProject(t, 50, s3)
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			held <- c // read nothing, answer nothing
		}
	}()
	t.Cleanup(func() {
		hole.Close()
		for len(held) > 0 {
			(<-held).Close()
		}
	})
	p.Edit(t, "destinations/destination_s3_acode/configuration.yaml", "s3_endpoint: "+s3.Endpoint, "s3_endpoint: http://"+hole.Addr().String())
	proj, err := config.Load(p.Dir, p.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := state.Open(ctx, proj.Settings.StateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stop := startMonthlyCare(ctx, slog.New(slog.DiscardHandler), proj, st)
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := st.ScheduleFire(ctx, tableSizesSchedule)
		if err == nil && len(held) > 0 {
			break
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("60s after start: table sizes recorded %v, %d connections held by the destination", err == nil, len(held))
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(20 * time.Second):
		t.Fatal("stopping the care loops waited on the hung destination")
	}
	if _, err := st.ScheduleFire(ctx, monthlyCareSchedule); err == nil {
		t.Error("the month was recorded done though the destination never answered")
	}
}

package mysql

import (
	"context"
	"strings"
	"testing"
)

func TestServerInfo_MariaDBPositionAdvancesWithWrites(t *testing.T) {
	t.Parallel()
	_, db, _ := openShared(t)
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)")
	before, err := ServerInfo(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if !before.IsMariaDB || !strings.Contains(before.Version, "MariaDB") || before.Hostname == "" || before.ReadOnly {
		t.Fatalf("server info %+v", before)
	}
	if before.GTIDPosition == "" || !strings.HasPrefix(before.BinlogFile, "binlog.") || before.BinlogPos <= 0 {
		t.Fatalf("no binlog position in %+v", before)
	}
	mustExec(t, db, "INSERT INTO t VALUES (1)")
	after, err := ServerInfo(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if after.GTIDPosition == before.GTIDPosition || after.BinlogPos <= before.BinlogPos {
		t.Fatalf("position did not advance: %s@%d -> %s@%d", before.GTIDPosition, before.BinlogPos, after.GTIDPosition, after.BinlogPos)
	}
}

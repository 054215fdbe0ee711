package cdc

import (
	"fmt"

	"github.com/acode-dev/acode/internal/config"
)

// oneReader refuses a connection whose failover pair's other side lands
// CDC streams too. The pair is one logical source: its reader follows the
// GTIDs through a failover on its own, so a second reader would land every
// transaction a second time, under the other connection's change logs.
func oneReader(p *config.Project, conn *config.Connection) error {
	pairs, err := p.FailoverPairs()
	if err != nil {
		return err
	}
	for _, pair := range pairs {
		other := ""
		switch conn.ResourceName {
		case pair.Primary:
			other = pair.Backup
		case pair.Backup:
			other = pair.Primary
		default:
			continue
		}
		oc, ok := p.Connections[other]
		if !ok || oc.Source == nil || oc.Source.ReplicationMethod != config.ReplicationCDC {
			return nil
		}
		if _, err := Streams(oc); err != nil {
			return nil // the other side has nothing to land: no reader there
		}
		return fmt.Errorf("%w: %s and %s are one failover pair and both land CDC streams (replication_method CDC in %s and %s); "+
			"one reader serves the pair and follows a failover by GTID: set replication_method STANDARD, or sync_mode full_refresh, on one side",
			ErrTwoReaders, pair.Primary, pair.Backup, sourceFile(p.Connections[pair.Primary]), sourceFile(p.Connections[pair.Backup]))
	}
	return nil
}

// CheckOneReader is oneReader for callers deciding which connections get
// a reader (acode serve): the error names both connections and files.
func CheckOneReader(p *config.Project, name string) error {
	conn, err := p.Connection(name)
	if err != nil {
		return err
	}
	return oneReader(p, conn)
}

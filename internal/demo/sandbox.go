package demo

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/acode-dev/acode/examples"
)

// What `acode demo` sets up on its sandbox: the seed's database and user,
// and its connection reading them into a local directory.
const (
	Database   = "acode_farmarcas"
	User       = "userfarmarcasac02"
	Connection = "connection_mysql_local_acode"
)

// Prepare creates the demo's database, its reading user with password and
// the grants a sync and the health checks need, and the three tables, on a
// server root administers.
func Prepare(ctx context.Context, root *sql.DB, password string) error {
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS " + Database,
		"CREATE USER IF NOT EXISTS '" + User + "'@'%' IDENTIFIED BY '" + strings.ReplaceAll(password, "'", "''") + "'",
		"GRANT SELECT, SHOW VIEW, REPLICATION CLIENT ON *.* TO '" + User + "'@'%'",
		// replication_lag reads the replica's status: the failure drill needs it.
		"GRANT SLAVE MONITOR ON *.* TO '" + User + "'@'%'",
	} {
		if _, err := root.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("prepare demo database: %w", err)
		}
	}
	return CreateSchema(ctx, root, Database)
}

// Env is the environment the demo's project is loaded with: the demo's
// credentials for both sources, and placeholders for the S3 keys the
// example names but the demo does not use, over base (os.LookupEnv). The
// process environment is left as it is.
func Env(password string, base func(string) (string, bool)) func(string) (string, bool) {
	own := map[string]string{
		"ACODE_PASS":        password,
		"ACODE_BACKUP_HOST": "127.0.0.1",
		"ACODE_BACKUP_USER": User,
		"ACODE_BACKUP_PASS": password,
	}
	defaults := map[string]string{
		"FARMARCAS_AWS_ACCESS_KEY_ID":     "not-used-by-the-demo",
		"FARMARCAS_AWS_SECRET_ACCESS_KEY": "not-used-by-the-demo",
	}
	return func(k string) (string, bool) {
		if v, ok := own[k]; ok {
			return v, true
		}
		if v, ok := base(k); ok {
			return v, true
		}
		v, ok := defaults[k]
		return v, ok
	}
}

// WriteProject writes the embedded example project into project with its
// sources pointed at the sandbox's primary and replica ports and its
// destinations (the local one, and the failure drill's pair) at out.
func WriteProject(project, out string, primaryPort, replicaPort int) error {
	err := fs.WalkDir(examples.Project, "acode-project", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(project, strings.TrimPrefix(path, "acode-project"))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := examples.Project.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, []byte(pointAtSandbox(path, string(data), out, primaryPort, replicaPort)), 0o644)
	})
	if err != nil {
		return fmt.Errorf("write demo project: %w", err)
	}
	return nil
}

// pointAtSandbox rewrites one file of the example project for the sandbox.
func pointAtSandbox(path, text, out string, primaryPort, replicaPort int) string {
	switch {
	case strings.HasSuffix(path, "sources/source_mysql_acode/configuration.yaml"):
		text = strings.Replace(text, "host: db-hsp-farmarcas.acode.com.br", "host: 127.0.0.1", 1)
		text = strings.Replace(text, "port: 3306", "port: "+strconv.Itoa(primaryPort), 1)
	case strings.HasSuffix(path, "sources/source_mysql_acode_backup/configuration.yaml"):
		text = strings.Replace(text, "port: 3306", "port: "+strconv.Itoa(replicaPort), 1)
	case strings.HasSuffix(path, "destinations/destination_local_acode/configuration.yaml"):
		text = strings.Replace(text, "destination_path: ./demo-data", "destination_path: "+out, 1)
	case strings.Contains(path, "destinations/destination_s3_acode"):
		// The failure drill's pair writes beside the local connection.
		text = strings.Replace(text, "s3_bucket_name: farmarcas-production-bronze", "destination_path: "+out, 1)
	}
	return text
}
